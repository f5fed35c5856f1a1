"""The three-list flow as data: residents order (点单) → the community dispatches (派单) or a taker
claims (认领) → the taker accepts (接单) → done → the requester rates (评单).

Two tables of the same shape as appeals/workflow.py, one for needs and one for projects. Services
look a transition up here before they write; pages and the API render the actions these tables
allow the current user (`permissions.need_actions` / `permissions.project_actions`).

Roles in a row are *relations* computed by `permissions.need_relations` / `project_relations`:
  anyone      any signed-in user (posting a need)
  requester   the resident who asked for the need
  recorder    holds lists.record on a scope covering the need (grid and community workers…)
  dispatcher  holds lists.dispatch on a scope covering the need or project (community, street)
  taker       may take orders at all: a party member for themself, a unit liaison for its unit
  project_taker
              the project's taker: its member, a liaison of its unit, the leader of its team
A guard is `guard(obj, data)`; `data` is the action's input or None for "could some input pass".

Choices made here, for the record:
- A claimed project still needs the taker's accept, as a dispatched one does: the flow is the same
  from there on, and "claimed" is the short window in which the taker prepares the plan.
- A taker who declines (or withdraws a claim) frees the need: it goes back to open and can be
  claimed or dispatched again. The declined project stays in the list as a record.
- The community may cancel a project that is not done yet; its needs go back to open too.
- A need recorded by staff with no resident account is rated by a recorder on the requester's
  behalf (a visit or a call), as for assisted appeals.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.workflow import Transition
from gongzhi.core.workflow import rows as _rows

from .models import NeedState, ProjectState

NEW = ""  # the state before create

ANYONE, REQUESTER, RECORDER, DISPATCHER, TAKER, PROJECT_TAKER = (
    "anyone", "requester", "recorder", "dispatcher", "taker", "project_taker")


class NeedAction:
    CREATE = "create"
    EDIT = "edit"
    WITHDRAW = "withdraw"
    CLAIM = "claim"
    DISPATCH = "dispatch"
    RATE = "rate"


class ProjectAction:
    ACCEPT = "accept"
    DECLINE = "decline"
    DONE = "done"
    CANCEL = "cancel"


NEED_ACTION_LABELS = {
    NeedAction.CREATE: _("发布需求"),
    NeedAction.EDIT: _("修改"),
    NeedAction.WITHDRAW: _("撤回"),
    NeedAction.CLAIM: _("认领"),
    NeedAction.DISPATCH: _("派单"),
    NeedAction.RATE: _("评价"),
}

PROJECT_ACTION_LABELS = {
    ProjectAction.ACCEPT: _("接单"),
    ProjectAction.DECLINE: _("谢绝"),
    ProjectAction.DONE: _("完成"),
    ProjectAction.CANCEL: _("撤销"),
}


def _no_requester(need, data) -> bool:
    return need.requester_id is None


def need_can_be_taken(need, today=None) -> bool:
    """The one rule for "this need can still be taken" (claimed or dispatched): it is open and its
    wished-for date has not passed. `selectors.takeable_needs_q` is the same rule as a query (the
    wish wall counts and offers 认领 with it); the claim row below guards with it."""
    today = today or timezone.localdate()
    return need.state == NeedState.OPEN and need.due_on is not None and need.due_on >= today


def _can_be_taken(need, data) -> bool:
    return need_can_be_taken(need)


_EXPIRED = _("该需求的期望完成日期已过，不能再认领；请先修改期望日期。")


_RATE_BY_REQUESTER = _("只有提出需求的居民可以评价。")

NEED_TABLE: tuple[Transition, ...] = (
    Transition(NEW, NeedAction.CREATE, NeedState.OPEN, frozenset({ANYONE})),
    Transition(NeedState.OPEN, NeedAction.EDIT, NeedState.OPEN, frozenset({REQUESTER, RECORDER})),
    Transition(NeedState.OPEN, NeedAction.WITHDRAW, NeedState.WITHDRAWN, frozenset({REQUESTER, RECORDER})),
    Transition(NeedState.OPEN, NeedAction.CLAIM, NeedState.CLAIMED, frozenset({TAKER}), guard=_can_be_taken,
               refusal=_EXPIRED),
    Transition(NeedState.OPEN, NeedAction.DISPATCH, NeedState.DISPATCHED, frozenset({DISPATCHER}),
               requires=("taker",)),
    Transition(NeedState.DONE, NeedAction.RATE, NeedState.RATED, frozenset({REQUESTER}), requires=("rating",)),
    Transition(NeedState.DONE, NeedAction.RATE, NeedState.RATED, frozenset({RECORDER}), guard=_no_requester,
               requires=("rating",), refusal=_RATE_BY_REQUESTER),
)

PROJECT_TABLE: tuple[Transition, ...] = (
    *_rows((ProjectState.DISPATCHED, ProjectState.CLAIMED), ProjectAction.ACCEPT, ProjectState.ACCEPTED,
           (PROJECT_TAKER,)),
    *_rows((ProjectState.DISPATCHED, ProjectState.CLAIMED), ProjectAction.DECLINE, ProjectState.DECLINED,
           (PROJECT_TAKER,), requires=("reason",)),
    Transition(ProjectState.ACCEPTED, ProjectAction.DONE, ProjectState.DONE, frozenset({PROJECT_TAKER}),
               requires=("beneficiaries_served", "hours", "summary")),
    *_rows((ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED), ProjectAction.CANCEL,
           ProjectState.CANCELLED, (DISPATCHER,), requires=("reason",)),
)

# Where a project's needs go when the project moves.
NEED_STATE_FOR_PROJECT = {
    ProjectState.DISPATCHED: NeedState.DISPATCHED,
    ProjectState.CLAIMED: NeedState.CLAIMED,
    ProjectState.ACCEPTED: NeedState.ACCEPTED,
    ProjectState.DONE: NeedState.DONE,
    ProjectState.DECLINED: NeedState.OPEN,
    ProjectState.CANCELLED: NeedState.OPEN,
}

NEED_ACTIONS = tuple(dict.fromkeys(t.action for t in NEED_TABLE))
PROJECT_ACTIONS = tuple(dict.fromkeys(t.action for t in PROJECT_TABLE))


def need_rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in NEED_TABLE if t.source == state and t.action == action]


def project_rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in PROJECT_TABLE if t.source == state and t.action == action]
