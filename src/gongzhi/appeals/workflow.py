"""The appeal state machine as data: one row per allowed (state, action) → state, with roles and guard.

Services look a transition up here before they write; pages and the API render the actions this
table allows the current user (`permissions.allowed_actions`). Nothing else decides transitions.

Roles in a row are *relations to the appeal*, computed by `permissions.relations(actor, appeal)`:
  reporter       the user who reported it (even when anonymous)
  owner          its current first responder (首问)
  level_staff    holds the role of the appeal's current level (grid worker / community worker /
                 street officer) on a scope covering the appeal
  grid_worker, community_worker, street_officer, district_admin
                 holds that role on a scope covering the appeal
  system         no user (the sweep, a scheduled task) or a superuser
  anyone         any signed-in user (only for submit)
  auto           nobody: the row is a consequence the services apply themselves (the appeal resolves
                 when its last work order does); never offered as an action
A guard is `guard(appeal, data)`: `data` is the action's input, or None for "could some input pass".

The whistle (吹哨) adds a second table of the same shape, SUMMONS_TABLE, for work orders (one
summoned organisation's share of an appeal). Its relations are computed by
`permissions.summons_relations(actor, work_order)`:
  assignee       holds department_handler or unit_liaison on an organisation scope covering the
                 summoned organisation
  street_officer holds street_officer on a place scope covering the appeal

Choices made here, for the record:
- The street whistles from escalated, accepted or reopened at street level, and again while
  dispatched (to summon one more organisation). The officer who whistles becomes the owner.
- The appeal resolves (row `orders_resolved`) in the same transaction as the last work order of
  the current round; if every work order is returned or cancelled it goes back to the street,
  accepted (row `back_to_street`), and the street can whistle again or handle it itself.
- A reopened appeal that had been dispatched stays with the street (owner and level unchanged, as
  for every reopen): the street can whistle again, which starts a new round of work orders.
"""

from __future__ import annotations

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.workflow import Transition
from gongzhi.core.workflow import rows as _rows

from .models import Level, Satisfaction, State
from .models import SummonsState as _S

NEW = ""  # the state before submit


class Action:
    SUBMIT = "submit"
    ACCEPT = "accept"
    HAND_ON = "hand_on"
    HAND_BACK = "hand_back"
    RESOLVE = "resolve"
    RATE = "rate"
    REJECT = "reject"
    MERGE = "merge"
    CLOSE = "close"
    WHISTLE = "whistle"
    # Consequences of work orders (relation `auto`): never taken by hand.
    ORDERS_RESOLVED = "orders_resolved"
    BACK_TO_STREET = "back_to_street"


ACTION_LABELS = {
    Action.SUBMIT: _("提交"),
    Action.ACCEPT: _("受理"),
    Action.HAND_ON: _("上报上级"),
    Action.HAND_BACK: _("退回下级"),
    Action.RESOLVE: _("办结"),
    Action.RATE: _("评价"),
    Action.REJECT: _("不予受理"),
    Action.MERGE: _("合并重复诉求"),
    Action.CLOSE: _("结案"),
    Action.WHISTLE: _("吹哨派单"),
    Action.ORDERS_RESOLVED: _("工单全部办结"),
    Action.BACK_TO_STREET: _("工单全部退回，回到街道"),
}

REPORTER, OWNER, LEVEL_STAFF, SYSTEM, ANYONE, AUTO = "reporter", "owner", "level_staff", "system", "anyone", "auto"
# Staff who call back a resident without an account (an appeal entered from a hotline call or a visit)
# and record the rating the resident gives on the phone (回访): whoever entered it, or the community.
CALLBACK = "callback"
GRID_WORKER, COMMUNITY_WORKER, STREET_OFFICER, DISTRICT_ADMIN = (
    "grid_worker", "community_worker", "street_officer", "district_admin")

# The role that works an appeal at each level, and the level above and below.
LEVEL_ROLE = {Level.GRID: GRID_WORKER, Level.COMMUNITY: COMMUNITY_WORKER, Level.STREET: STREET_OFFICER}
LEVEL_UP = {Level.GRID: Level.COMMUNITY, Level.COMMUNITY: Level.STREET}
LEVEL_DOWN = {Level.COMMUNITY: Level.GRID, Level.STREET: Level.COMMUNITY}


def _below_street(appeal, data) -> bool:
    return appeal.owner_level in LEVEL_UP


def _above_grid(appeal, data) -> bool:
    return appeal.owner_level in LEVEL_DOWN


def _at_street(appeal, data) -> bool:
    return appeal.owner_level == Level.STREET


def _rating_reopens(appeal, data) -> bool:
    """Unsatisfied the first time: redo. The second result is final."""
    if appeal.reopen_count > 0:
        return False
    return data is None or data.get("satisfaction") == Satisfaction.UNSATISFIED


def _rating_final(appeal, data) -> bool:
    return data is None or not _rating_reopens(appeal, data)


_HANDLERS = (OWNER, LEVEL_STAFF)
_STAFF = (COMMUNITY_WORKER, STREET_OFFICER)
_AT_TOP = _("该诉求已在街道层级，不能再上报；请由街道吹哨调度职能部门。")
_AT_BOTTOM = _("该诉求已在网格层级，不能再退回。")
_NOT_AT_STREET = _("只有在街道层级办理的诉求才能吹哨；请先由社区上报街道。")

TABLE: tuple[Transition, ...] = (
    Transition(NEW, Action.SUBMIT, State.SUBMITTED, frozenset({ANYONE})),
    *_rows((State.SUBMITTED, State.ESCALATED, State.REOPENED), Action.ACCEPT, State.ACCEPTED, _HANDLERS),
    *_rows((State.SUBMITTED, State.ACCEPTED), Action.HAND_ON, State.ESCALATED, (OWNER,), guard=_below_street,
           requires=("reason",), refusal=_AT_TOP),
    Transition(State.ESCALATED, Action.HAND_BACK, State.ACCEPTED, frozenset(_HANDLERS), guard=_above_grid,
               requires=("reason",), refusal=_AT_BOTTOM),
    Transition(State.ACCEPTED, Action.HAND_BACK, State.ACCEPTED, frozenset({OWNER}), guard=_above_grid,
               requires=("reason",), refusal=_AT_BOTTOM),
    Transition(State.ACCEPTED, Action.RESOLVE, State.RESOLVED, frozenset({OWNER}), requires=("note",)),
    Transition(State.RESOLVED, Action.RATE, State.REOPENED, frozenset({REPORTER, CALLBACK}), guard=_rating_reopens,
               requires=("resolved", "satisfaction")),
    Transition(State.RESOLVED, Action.RATE, State.RATED, frozenset({REPORTER, CALLBACK}), guard=_rating_final,
               requires=("resolved", "satisfaction")),
    Transition(State.RATED, Action.CLOSE, State.CLOSED, frozenset({SYSTEM, COMMUNITY_WORKER, STREET_OFFICER,
                                                                   DISTRICT_ADMIN})),
    *_rows((State.SUBMITTED, State.ACCEPTED, State.ESCALATED), Action.REJECT, State.REJECTED, _STAFF,
           requires=("reason", "redirect_to")),
    *_rows((State.SUBMITTED, State.ACCEPTED, State.ESCALATED), Action.MERGE, State.MERGED, _STAFF,
           requires=("into",)),
    *_rows((State.ESCALATED, State.ACCEPTED, State.REOPENED, State.DISPATCHED), Action.WHISTLE, State.DISPATCHED,
           (STREET_OFFICER,), guard=_at_street, requires=("summons",), refusal=_NOT_AT_STREET),
    Transition(State.DISPATCHED, Action.ORDERS_RESOLVED, State.RESOLVED, frozenset({AUTO})),
    Transition(State.DISPATCHED, Action.BACK_TO_STREET, State.ACCEPTED, frozenset({AUTO})),
)

ACTIONS = tuple(dict.fromkeys(t.action for t in TABLE))  # in table order
# Actions applied only by the services as consequences of work orders.
AUTO_ACTIONS = tuple(dict.fromkeys(t.action for t in TABLE if AUTO in t.roles))


def rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in TABLE if t.source == state and t.action == action]


def actions_from(state: str) -> list[str]:
    """Every action the table has from a state, whoever asks."""
    return list(dict.fromkeys(t.action for t in TABLE if t.source == state))


# ---- work orders (工单): one summoned organisation's share of an appeal ----

class SummonsAction:
    REPORT = "report"
    RESOLVE = "resolve"
    RETURN = "return"
    CANCEL = "cancel"
    RATE = "rate"


SUMMONS_ACTION_LABELS = {
    SummonsAction.REPORT: _("报到"),
    SummonsAction.RESOLVE: _("提交办理结果"),
    SummonsAction.RETURN: _("退回工单"),
    SummonsAction.CANCEL: _("撤销派单"),
    SummonsAction.RATE: _("评价部门"),
}

# The appeal timeline's name for each work-order action (AppealEvent.action).
SUMMONS_EVENTS = {a: f"summons_{a}" for a in SUMMONS_ACTION_LABELS}
SUMMONS_EVENT_LABELS = {
    SUMMONS_EVENTS[SummonsAction.REPORT]: _("部门报到"),
    SUMMONS_EVENTS[SummonsAction.RESOLVE]: _("部门提交办理结果"),
    SUMMONS_EVENTS[SummonsAction.RETURN]: _("部门退回工单"),
    SUMMONS_EVENTS[SummonsAction.CANCEL]: _("街道撤销派单"),
    SUMMONS_EVENTS[SummonsAction.RATE]: _("街道评价部门"),
}

ASSIGNEE = "assignee"


def _appeal_dispatched(work_order, data) -> bool:
    return work_order.appeal.state == State.DISPATCHED


def _not_rated(work_order, data) -> bool:
    return work_order.rating_speed is None


_APPEAL_NOT_DISPATCHED = _("该诉求已不在派单办理中，工单不能再变更。")
_ALREADY_RATED = _("该工单已评价过，每个工单只能评价一次。")


SUMMONS_TABLE: tuple[Transition, ...] = (
    Transition(_S.SUMMONED, SummonsAction.REPORT, _S.REPORTED, frozenset({ASSIGNEE}), guard=_appeal_dispatched,
               refusal=_APPEAL_NOT_DISPATCHED),
    Transition(_S.REPORTED, SummonsAction.RESOLVE, _S.RESOLVED, frozenset({ASSIGNEE}), guard=_appeal_dispatched,
               requires=("note",), refusal=_APPEAL_NOT_DISPATCHED),
    Transition(_S.SUMMONED, SummonsAction.RETURN, _S.RETURNED, frozenset({ASSIGNEE}), guard=_appeal_dispatched,
               requires=("reason",), refusal=_APPEAL_NOT_DISPATCHED),
    *_rows((_S.SUMMONED, _S.REPORTED), SummonsAction.CANCEL, _S.CANCELLED, (STREET_OFFICER,),
            guard=_appeal_dispatched, requires=("reason",), refusal=_APPEAL_NOT_DISPATCHED),
    Transition(_S.RESOLVED, SummonsAction.RATE, _S.RESOLVED, frozenset({STREET_OFFICER}), guard=_not_rated,
               requires=("speed", "result"), refusal=_ALREADY_RATED),
)

SUMMONS_ACTIONS = tuple(dict.fromkeys(t.action for t in SUMMONS_TABLE))


def summons_rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in SUMMONS_TABLE if t.source == state and t.action == action]


# ---- the deadline sweep (`gongzhi sweep`): rows only the system applies ----
#
# A third table of the same shape. It is kept apart from TABLE on purpose: the rows are the
# system's (relation `system`, actor None), driven by the clock as a guard, and must never be
# offered to anyone — `permissions.allowed_actions` and the services' `_pick` walk TABLE only, so a
# superuser (who also has the `system` relation) is not shown "escalate" on a page either.
# Choices made here, for the record:
# - Escalation is one level per overdue step (grid → community → street), from every state in
#   which the current level still owes a response or a result: submitted, escalated (handed on
#   but not yet taken), accepted and reopened. At the street there is no level above to take it:
#   the sweep records an overdue warning for the street and its district instead.
# - An appeal resolved and not rated within APPEAL_AUTO_CLOSE_DAYS closes (auto_close). Its rating
#   stays empty: the KPIs count it as unrated, never as satisfied.

class SweepAction:
    ESCALATE = "escalate"
    AUTO_CLOSE = "auto_close"


# Timeline events the sweep writes that change no state (warnings); they still bump `version`.
OVERDUE, DUE_SOON = "overdue", "due_soon"
# The step a warning is about: an appeal's response or result, a work order's report or result.
STEP_RESPOND, STEP_RESOLVE, STEP_REPORT, STEP_WO_RESOLVE = "respond", "resolve", "report", "wo_resolve"

SWEEP_EVENT_LABELS = {
    SweepAction.ESCALATE: _("超时自动上报"),
    SweepAction.AUTO_CLOSE: _("逾期未评价自动结案"),
    OVERDUE: _("超时预警"),
    DUE_SOON: _("即将到期提醒"),
}
# The timeline shows the sweep's events by these names too (present.py reads ACTION_LABELS).
ACTION_LABELS.update(SWEEP_EVENT_LABELS)

STEP_LABELS = {
    STEP_RESPOND: _("响应"),
    STEP_RESOLVE: _("办结"),
    STEP_REPORT: _("部门报到"),
    STEP_WO_RESOLVE: _("部门办结"),
}


def _appeal_not_rated(appeal, data) -> bool:
    """Not rated since it was last resolved: a rating that reopened the appeal came before its
    second resolution and does not count (appeal_unrated_q is the same rule as a filter)."""
    return appeal.rated_at is None or (appeal.resolved_at is not None and appeal.rated_at < appeal.resolved_at)


def appeal_unrated_q() -> Q:
    return Q(rated_at__isnull=True) | Q(rated_at__lt=F("resolved_at"))


SWEEP_TABLE: tuple[Transition, ...] = (
    *_rows((State.SUBMITTED, State.ESCALATED, State.ACCEPTED, State.REOPENED), SweepAction.ESCALATE,
           State.ESCALATED, (SYSTEM,), guard=_below_street, refusal=_AT_TOP),
    Transition(State.RESOLVED, SweepAction.AUTO_CLOSE, State.CLOSED, frozenset({SYSTEM}), guard=_appeal_not_rated),
)


def sweep_rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in SWEEP_TABLE if t.source == state and t.action == action]
