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
A guard is `guard(appeal, data)`: `data` is the action's input, or None for "could some input pass".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .models import Level, Satisfaction, State

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
}

REPORTER, OWNER, LEVEL_STAFF, SYSTEM, ANYONE = "reporter", "owner", "level_staff", "system", "anyone"
GRID_WORKER, COMMUNITY_WORKER, STREET_OFFICER, DISTRICT_ADMIN = (
    "grid_worker", "community_worker", "street_officer", "district_admin")

# The role that works an appeal at each level, and the level above and below.
LEVEL_ROLE = {Level.GRID: GRID_WORKER, Level.COMMUNITY: COMMUNITY_WORKER, Level.STREET: STREET_OFFICER}
LEVEL_UP = {Level.GRID: Level.COMMUNITY, Level.COMMUNITY: Level.STREET}
LEVEL_DOWN = {Level.COMMUNITY: Level.GRID, Level.STREET: Level.COMMUNITY}


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]
    guard: Callable | None = None
    # Input the action needs (pages render these fields; services validate them).
    requires: tuple[str, ...] = ()
    # Said when the row matches state, action and role but its guard refuses.
    refusal: object = field(default=None, compare=False)

    def allows(self, appeal, data=None) -> bool:
        return self.guard is None or bool(self.guard(appeal, data))


def _below_street(appeal, data) -> bool:
    return appeal.owner_level in LEVEL_UP


def _above_grid(appeal, data) -> bool:
    return appeal.owner_level in LEVEL_DOWN


def _rating_reopens(appeal, data) -> bool:
    """Unsatisfied the first time: redo. The second result is final."""
    if appeal.reopen_count > 0:
        return False
    return data is None or data.get("satisfaction") == Satisfaction.UNSATISFIED


def _rating_final(appeal, data) -> bool:
    return data is None or not _rating_reopens(appeal, data)


def _rows(sources, action, target, roles, **kw) -> tuple[Transition, ...]:
    return tuple(Transition(s, action, target, frozenset(roles), **kw) for s in sources)


_HANDLERS = (OWNER, LEVEL_STAFF)
_STAFF = (COMMUNITY_WORKER, STREET_OFFICER)
_AT_TOP = _("该诉求已在街道层级，不能再上报；请由街道吹哨调度职能部门。")
_AT_BOTTOM = _("该诉求已在网格层级，不能再退回。")

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
    Transition(State.RESOLVED, Action.RATE, State.REOPENED, frozenset({REPORTER}), guard=_rating_reopens,
               requires=("resolved", "satisfaction")),
    Transition(State.RESOLVED, Action.RATE, State.RATED, frozenset({REPORTER}), guard=_rating_final,
               requires=("resolved", "satisfaction")),
    Transition(State.RATED, Action.CLOSE, State.CLOSED, frozenset({SYSTEM, COMMUNITY_WORKER, STREET_OFFICER,
                                                                   DISTRICT_ADMIN})),
    *_rows((State.SUBMITTED, State.ACCEPTED, State.ESCALATED), Action.REJECT, State.REJECTED, _STAFF,
           requires=("reason", "redirect_to")),
    *_rows((State.SUBMITTED, State.ACCEPTED, State.ESCALATED), Action.MERGE, State.MERGED, _STAFF,
           requires=("into",)),
)

ACTIONS = tuple(dict.fromkeys(t.action for t in TABLE))  # in table order


def rows_for(state: str, action: str) -> list[Transition]:
    return [t for t in TABLE if t.source == state and t.action == action]


def actions_from(state: str) -> list[str]:
    """Every action the table has from a state, whoever asks."""
    return list(dict.fromkeys(t.action for t in TABLE if t.source == state))
