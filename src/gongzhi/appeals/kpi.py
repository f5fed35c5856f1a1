"""Appeal KPIs: rollup counters kept in each transition's transaction, and every read over them.

Where the numbers live. `AppealRollup` holds one row per (day, node). A node is a place (city,
district, street, community), a grid (every level of the appeal's grid path), an organisation (a
department or member unit and each organisation above it), or a "dept" node: one organisation's
work orders for appeals inside one place, which is how a street lists the departments it summoned.
`hooks.record_event` calls `on_event` inside the transition's transaction; it adds the event's
increments to the rows of the appeal's nodes with one upsert
(INSERT … ON CONFLICT (node, day) DO UPDATE SET c = c + excluded.c), so two concurrent transitions
never lose a count and a rolled-back transition leaves none behind. Each node also has a month row
(key "month:<node>", day = the 1st) holding the sum of its days, so reads (`summary`, `breakdown`)
sum one row per whole month plus the loose days at either end: at most about 72 rows per node for
any period of up to 366 days, whatever the city's size, and never a scan of appeals.

Which day. Appeal counters count an appeal on the day (Asia/Shanghai) it was submitted; work-order
counters count a work order on the day it was summoned. A period's numbers therefore describe the
appeals submitted in it (a cohort), so every rate is a true proportion of one set of appeals, never
above 100 %; a late step updates the row of the day its appeal came in.

Appeal counters (place and grid rows):
  submitted            appeals submitted
  accepted             appeals responded to: the first accept, hand-back or whistle that takes the
                       appeal on (at most once per appeal)
  accepted_on_time     … of which at or before the appeal's respond deadline
  resolved             results reported (办结): a redo after an unsatisfied rating counts again
  resolved_on_time     … at or before the resolve deadline that applied then
  rated                appeals rated by the reporter, each once whatever how often it was rated
  satisfied, basically_satisfied, unsatisfied    rated appeals by their final rating's satisfaction
  reporter_resolved    rated appeals whose final rating says the problem was solved
                       (a second rating, after a reopening, takes the first one's counts back and
                       adds its own: an appeal rated unsatisfied, redone and rated satisfied counts
                       once, as satisfied)
  reopened             ratings that reopened the appeal for redo
  handed_on, bounces   hand-ons up a level; hand-backs down a level (bounces, 退回)
  escalated            automatic escalations by the sweep
  overdue              appeals that went overdue: the first overdue warning the sweep recorded on
                       the appeal's timeline (any step, its work orders' included) counts it once,
                       however often it is warned or escalated again. "Overdue" is one rule
                       (appeals.selectors.overdue_q: open, the pending step's deadline passed);
                       the appeals overdue right now are `overdue_now`, the board's number
  rejected, merged, closed   rejections, merges into another appeal, closings (by hand or automatic)
Work-order counters (org and dept rows):
  summoned, reported, reported_on_time (at or before report_due), wo_resolved,
  wo_resolved_on_time (at or before resolve_due), returned, cancelled, wo_overdue (the sweep's
  warnings about a work order's report or result), wo_rated, speed_sum, result_sum (the street's
  1–5 ratings).
Rates (None when the denominator is 0):
  response_rate      = accepted / submitted                                  响应率
  on_time_rate       = (accepted_on_time + resolved_on_time) / (accepted + resolved)   按时办理率
  satisfaction_rate  = (satisfied + basically_satisfied) / rated            满意率
  resolution_rate    = reporter_resolved / rated                             解决率
  report_on_time_rate = reported_on_time / reported                          部门按时报到率
  wo_on_time_rate    = (reported_on_time + wo_resolved_on_time) / (reported + wo_resolved)
  wo_resolve_rate    = wo_resolved / summoned                                 部门办结率
  speed_avg, result_avg = speed_sum / wo_rated, result_sum / wo_rated         部门评价均分

`rebuild` recomputes the rows from the timeline (AppealEvent and work orders) with the same
increments as `on_event`; `appeals_behind` lists the appeals (or work orders) counted in one
number by replaying their timelines the same way, so the list always adds up to the number.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import bounds
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.scopes import ROLE_ACTIONS, scopes_of

from .models import Appeal, AppealEvent, AppealRollup, Category, RollupKind, Satisfaction, WhistleSummons
from .workflow import SUMMONS_EVENTS, Action, SummonsAction

KPI_VIEW = "kpi.view"
MAX_DAYS = 366

APPEAL_COUNTERS = (
    "submitted", "accepted", "accepted_on_time", "resolved", "resolved_on_time", "rated", "satisfied",
    "basically_satisfied", "unsatisfied", "reporter_resolved", "reopened", "handed_on", "bounces", "escalated",
    "overdue", "rejected", "merged", "closed",
)
WO_COUNTERS = (
    "summoned", "reported", "reported_on_time", "wo_resolved", "wo_resolved_on_time", "returned", "cancelled",
    "wo_overdue", "wo_rated", "speed_sum", "result_sum",
)
COUNTERS = APPEAL_COUNTERS + WO_COUNTERS
# Numbers with a list behind them (sums of scores have none).
LIST_METRICS = tuple(c for c in COUNTERS if c not in ("speed_sum", "result_sum"))

COUNTER_LABELS = {
    "submitted": gettext_lazy("提交诉求"),
    "accepted": gettext_lazy("已响应"),
    "accepted_on_time": gettext_lazy("按时响应"),
    "resolved": gettext_lazy("办结次数"),
    "resolved_on_time": gettext_lazy("按时办结"),
    "rated": gettext_lazy("已评价诉求"),
    "satisfied": gettext_lazy("满意"),
    "basically_satisfied": gettext_lazy("基本满意"),
    "unsatisfied": gettext_lazy("不满意"),
    "reporter_resolved": gettext_lazy("评价为已解决"),
    "reopened": gettext_lazy("重新办理"),
    "handed_on": gettext_lazy("上报上级"),
    "bounces": gettext_lazy("退回下级"),
    "escalated": gettext_lazy("超时自动上报"),
    "overdue": gettext_lazy("超时诉求"),
    "rejected": gettext_lazy("不予受理"),
    "merged": gettext_lazy("合并"),
    "closed": gettext_lazy("结案"),
    "summoned": gettext_lazy("被召集工单"),
    "reported": gettext_lazy("已报到"),
    "reported_on_time": gettext_lazy("按时报到"),
    "wo_resolved": gettext_lazy("部门办结"),
    "wo_resolved_on_time": gettext_lazy("部门按时办结"),
    "returned": gettext_lazy("部门退回"),
    "cancelled": gettext_lazy("街道撤销"),
    "wo_overdue": gettext_lazy("工单超时预警"),
    "wo_rated": gettext_lazy("街道评价次数"),
    "speed_sum": gettext_lazy("响应速度总分"),
    "result_sum": gettext_lazy("办理结果总分"),
}

# Each rate: (numerator counters, denominator counters).
RATES = {
    "response_rate": (("accepted",), ("submitted",)),
    "on_time_rate": (("accepted_on_time", "resolved_on_time"), ("accepted", "resolved")),
    "satisfaction_rate": (("satisfied", "basically_satisfied"), ("rated",)),
    "resolution_rate": (("reporter_resolved",), ("rated",)),
    "report_on_time_rate": (("reported_on_time",), ("reported",)),
    "wo_on_time_rate": (("reported_on_time", "wo_resolved_on_time"), ("reported", "wo_resolved")),
    "wo_resolve_rate": (("wo_resolved",), ("summoned",)),
}
AVERAGES = {"speed_avg": ("speed_sum", "wo_rated"), "result_avg": ("result_sum", "wo_rated")}
RATE_LABELS = {
    "response_rate": gettext_lazy("响应率"),
    "on_time_rate": gettext_lazy("按时办理率"),
    "satisfaction_rate": gettext_lazy("满意率"),
    "resolution_rate": gettext_lazy("解决率"),
    "report_on_time_rate": gettext_lazy("按时报到率"),
    "wo_on_time_rate": gettext_lazy("工单按时率"),
    "wo_resolve_rate": gettext_lazy("工单办结率"),
    "speed_avg": gettext_lazy("响应速度均分"),
    "result_avg": gettext_lazy("办理结果均分"),
}
RATE_DEFINITIONS = {
    "response_rate": gettext_lazy("已响应 ÷ 提交诉求"),
    "on_time_rate": gettext_lazy("（按时响应 + 按时办结）÷（已响应 + 办结次数）"),
    "satisfaction_rate": gettext_lazy("最终评价为满意或基本满意的诉求 ÷ 已评价诉求"),
    "resolution_rate": gettext_lazy("最终评价为已解决的诉求 ÷ 已评价诉求"),
    "report_on_time_rate": gettext_lazy("按时报到 ÷ 已报到"),
    "wo_on_time_rate": gettext_lazy("（按时报到 + 部门按时办结）÷（已报到 + 部门办结）"),
    "wo_resolve_rate": gettext_lazy("部门办结 ÷ 被召集工单"),
    "speed_avg": gettext_lazy("响应速度总分 ÷ 街道评价次数"),
    "result_avg": gettext_lazy("办理结果总分 ÷ 街道评价次数"),
}
APPEAL_RATES = ("response_rate", "on_time_rate", "satisfaction_rate", "resolution_rate")
WO_RATES = ("report_on_time_rate", "wo_on_time_rate", "wo_resolve_rate", "speed_avg", "result_avg")

# Actions that take an appeal on: the first of them is its response (they set accepted_at).
RESPONSE_ACTIONS = frozenset({Action.ACCEPT, Action.HAND_BACK, Action.WHISTLE, Action.BACK_TO_STREET})
RESOLVE_ACTIONS = frozenset({Action.RESOLVE, Action.ORDERS_RESOLVED})
OVERDUE, ESCALATE, AUTO_CLOSE = "overdue", "escalate", "auto_close"
WO_STEPS = frozenset({"report", "wo_resolve"})
WO_EVENTS = {SUMMONS_EVENTS[a]: a for a in SUMMONS_EVENTS}
# Timeline actions that move an appeal counter (the rest — photos, merged_in, due_soon … — do not).
APPEAL_ACTIONS = frozenset({Action.SUBMIT, Action.RATE, Action.HAND_ON, Action.REJECT, Action.MERGE, Action.CLOSE,
                            ESCALATE, OVERDUE, AUTO_CLOSE}) | RESPONSE_ACTIONS | RESOLVE_ACTIONS
SATISFACTION_COUNTER = {Satisfaction.SATISFIED: "satisfied", Satisfaction.BASIC: "basically_satisfied",
                        Satisfaction.UNSATISFIED: "unsatisfied"}
# The timeline actions that can move each appeal counter (the drill-down looks only at those appeals).
METRIC_ACTIONS = {
    "submitted": {Action.SUBMIT}, "accepted": RESPONSE_ACTIONS, "accepted_on_time": RESPONSE_ACTIONS,
    "resolved": RESOLVE_ACTIONS, "resolved_on_time": RESOLVE_ACTIONS,
    **{c: {Action.RATE} for c in ("rated", "satisfied", "basically_satisfied", "unsatisfied", "reporter_resolved",
                                  "reopened")},
    "handed_on": {Action.HAND_ON}, "bounces": {Action.HAND_BACK}, "escalated": {ESCALATE}, "overdue": {OVERDUE},
    "rejected": {Action.REJECT}, "merged": {Action.MERGE}, "closed": {Action.CLOSE, AUTO_CLOSE},
}


# ---- nodes ----

def _ancestors(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/", "/a/b/c/"]."""
    parts = [p for p in (path or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def place_key(path: str) -> str:
    return f"place:{path}"


def grid_key(path: str) -> str:
    return f"grid:{path}"


def org_key(path: str) -> str:
    return f"org:{path}"


def dept_key(org_id: int, place_path: str) -> str:
    return f"dept:{org_id}@{place_key(place_path)}"


MONTH = "month:"


def month_key(key: str) -> str:
    """The node's month row (day = the 1st): a long period reads one row per whole month."""
    return f"{MONTH}{key}" if key else ""


def _day_key(key: str) -> str:
    return key.removeprefix(MONTH)


# The kinds of a community's ancestors, from the community up (the place tree enforces them).
_PLACE_KINDS_UP = (RollupKind.COMMUNITY, RollupKind.STREET, RollupKind.DISTRICT, RollupKind.CITY)


def appeal_nodes(grid_path: str, place_path: str) -> list[tuple[str, str, str, int | None]]:
    """(key, kind, parent key, org id) of every node an appeal counts in: its places and grids."""
    places = _ancestors(place_path)
    out, parent = [], ""
    for i, p in enumerate(places):
        up = len(places) - 1 - i
        out.append((place_key(p), _PLACE_KINDS_UP[min(up, 3)], parent, None))
        parent = place_key(p)
    for g in _ancestors(grid_path):
        out.append((grid_key(g), RollupKind.GRID, parent, None))
        parent = grid_key(g)
    return out


def work_order_nodes(assignee_id: int, assignee_path: str, place_path: str) -> list[tuple[str, str, str, int | None]]:
    """The summoned organisation and every organisation above it, and the organisation inside each
    place of the appeal."""
    out, parent = [], ""
    for p in _ancestors(assignee_path):
        org_id = int(p.rstrip("/").rsplit("/", 1)[-1])
        out.append((org_key(p), RollupKind.ORG, parent, org_id))
        parent = org_key(p)
    for p in _ancestors(place_path):
        out.append((dept_key(assignee_id, p), RollupKind.DEPT, place_key(p), assignee_id))
    return out


# ---- increments: the one definition shared by the live hook, rebuild and the drill-down ----

def appeal_increments(action: str, data: dict, at, *, first_response: bool, respond_due, resolve_due,
                      previous_rating: tuple | None = None, was_overdue: bool = False) -> dict:
    """What one timeline event adds to its appeal's counters, given the appeal as it was before it.

    `previous_rating` is the appeal's rating before this event ((satisfaction, resolved), None when
    it had none): a second rating replaces the first, so its counters take the first one's back and
    the appeal counts once, with its final rating. `was_overdue` says an overdue warning is already
    on its timeline: the overdue counter counts appeals, so only the first warning counts.
    """
    c: dict[str, int] = defaultdict(int)
    if action == Action.SUBMIT:
        c["submitted"] = 1
    if action in RESPONSE_ACTIONS and first_response:
        c["accepted"] = 1
        if respond_due is not None and at <= respond_due:
            c["accepted_on_time"] = 1
    if action in RESOLVE_ACTIONS:
        c["resolved"] = 1
        if resolve_due is not None and at <= resolve_due:
            c["resolved_on_time"] = 1
    if action == Action.RATE:
        if previous_rating is None:
            c["rated"] = 1
        else:
            before, before_resolved = previous_rating
            if SATISFACTION_COUNTER.get(before):
                c[SATISFACTION_COUNTER[before]] -= 1
            if before_resolved is True:
                c["reporter_resolved"] -= 1
        counter = SATISFACTION_COUNTER.get(data.get("satisfaction"))
        if counter:
            c[counter] += 1
        if data.get("resolved") is True:
            c["reporter_resolved"] += 1
        if data.get("reopen"):
            c["reopened"] = 1
    if action == OVERDUE and not was_overdue:
        c["overdue"] = 1
    simple = {Action.HAND_ON: "handed_on", Action.HAND_BACK: "bounces", ESCALATE: "escalated",
              Action.REJECT: "rejected", Action.MERGE: "merged", Action.CLOSE: "closed", AUTO_CLOSE: "closed"}
    if action in simple:
        c[simple[action]] += 1
    return {k: v for k, v in c.items() if v}


def rating_of(satisfaction, resolved) -> tuple | None:
    """An appeal's rating as `appeal_increments` takes it: None when it has none yet."""
    return (satisfaction, resolved) if satisfaction else None


def work_order_increments(action: str, data: dict, at, *, report_due, resolve_due) -> dict:
    """What one timeline event about a work order adds to its organisation's counters."""
    c: dict[str, int] = {}
    wo_action = WO_EVENTS.get(action)
    if wo_action == SummonsAction.REPORT:
        c["reported"] = 1
        if at <= report_due:
            c["reported_on_time"] = 1
    elif wo_action == SummonsAction.RESOLVE:
        c["wo_resolved"] = 1
        if at <= resolve_due:
            c["wo_resolved_on_time"] = 1
    elif wo_action == SummonsAction.RETURN:
        c["returned"] = 1
    elif wo_action == SummonsAction.CANCEL:
        c["cancelled"] = 1
    elif wo_action == SummonsAction.RATE:
        c.update(wo_rated=1, speed_sum=int(data.get("speed") or 0), result_sum=int(data.get("result") or 0))
    elif action == OVERDUE and data.get("step") in WO_STEPS:
        c["wo_overdue"] = 1
    return c


def _wo_id_of(action: str, data: dict) -> int | None:
    """The work order an event is about, from its data (whistle events name several: see on_event)."""
    if action in WO_EVENTS or (action == OVERDUE and data.get("step") in WO_STEPS):
        try:
            return int(data.get("work_order"))
        except (TypeError, ValueError):
            return None
    return None


def local_day(when) -> dt.date:
    return timezone.localdate(when)


class _Rows:
    """Increments gathered per (node, day) before they are written."""

    def __init__(self):
        self.rows: dict[tuple[str, dt.date], list] = {}

    def add(self, nodes, day, inc: dict):
        """Add `inc` to each node's row of `day` and to its month row."""
        if not inc:
            return
        month = day.replace(day=1)
        for key, kind, parent, org_id in nodes:
            for k, d, p in ((key, day, parent), (month_key(key), month, month_key(parent))):
                row = self.rows.get((k, d))
                if row is None:
                    row = self.rows[(k, d)] = [kind, p, org_id, defaultdict(int)]
                for name, n in inc.items():
                    row[3][name] += n

    def __bool__(self):
        return bool(self.rows)


# ---- the live hook ----

def on_event(appeal, event, *, changes=None, work_order=None, work_order_changes=None, **_context) -> None:
    """Add one timeline event to the rollups, in its transition's transaction.

    `appeal` is the row as read before the transition (so `accepted_at is None` means this is its
    first response and `resolve_due` is the deadline that applied); `work_order` likewise.
    """
    rows = _Rows()
    _add_event(rows, appeal, event, work_order=work_order)
    if rows:
        _upsert(rows)


def on_events(items) -> None:
    """`on_event` for many events at once (a batch of submits): one upsert for all their rows.
    `items` are (appeal, event) pairs of events that concern no work order."""
    rows = _Rows()
    for appeal, event in items:
        _add_event(rows, appeal, event)
    if rows:
        _upsert(rows)


def _add_event(rows: _Rows, appeal, event, *, work_order=None) -> None:
    action, data = event.action, event.data or {}
    was_overdue = action == OVERDUE and AppealEvent.objects.filter(
        appeal_id=appeal.pk, action=OVERDUE, id__lt=event.pk).exists()
    inc = appeal_increments(action, data, event.at, first_response=appeal.accepted_at is None,
                            respond_due=appeal.respond_due, resolve_due=appeal.resolve_due,
                            previous_rating=rating_of(appeal.satisfaction, appeal.rating_resolved),
                            was_overdue=was_overdue)
    rows.add(appeal_nodes(appeal.grid_path, appeal.place_path), local_day(appeal.submitted_at), inc)
    if action == Action.WHISTLE:
        ids = [int(i) for i in data.get("work_orders") or ()]
        for assignee_id, assignee_path, summoned_at in (
                WhistleSummons.objects.filter(pk__in=ids).values_list("assignee_id", "assignee_path", "summoned_at")):
            rows.add(work_order_nodes(assignee_id, assignee_path, appeal.place_path), local_day(summoned_at),
                     {"summoned": 1})
    else:
        wo_id = _wo_id_of(action, data)
        if work_order is None and wo_id is not None:
            work_order = WhistleSummons.objects.filter(pk=wo_id).first()
        if work_order is not None:
            wo_inc = work_order_increments(action, data, event.at, report_due=work_order.report_due,
                                           resolve_due=work_order.resolve_due)
            rows.add(work_order_nodes(work_order.assignee_id, work_order.assignee_path, appeal.place_path),
                     local_day(work_order.summoned_at), wo_inc)


def _upsert(rows: _Rows) -> None:
    """One INSERT … ON CONFLICT (node, day) DO UPDATE SET c = c + excluded.c for every row touched.

    The database serialises the increments on each row (PostgreSQL's upsert locks the row or waits
    for a concurrent insert of the same key; SQLite's writers queue), so no count is ever lost.
    A negative increment (a second rating taking the first one's counts back) cannot go through the
    INSERT (the counters are checked non-negative on the row proposed): it is applied by an UPDATE of
    the row after the upsert, the row the first rating already counted in.
    """
    used = sorted({name for row in rows.rows.values() for name, n in row[3].items() if n > 0})
    qn = connection.ops.quote_name
    table = qn(AppealRollup._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    if used:
        cols = ["day", "node", "kind", "parent", "org_id", *COUNTERS]
        params: list = []
        values = []
        # Counters this event does not touch are a literal 0, not a parameter: a submit's upsert then
        # binds 6 values a row instead of 24 (the driver's query parsing was a visible share of a submit).
        row_sql = "(" + ", ".join(["%s"] * 5 + ["%s" if c in used else "0" for c in COUNTERS]) + ")"
        for (key, day), (kind, parent, org_id, inc) in sorted(rows.rows.items()):
            values.append(row_sql)
            params += [adapt(day), key, str(kind), parent, org_id,
                       *(max(inc.get(c, 0), 0) for c in COUNTERS if c in used)]
        sets = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in used)
        sql = (f"INSERT INTO {table} ({', '.join(qn(c) for c in cols)}) VALUES {', '.join(values)} "
               f"ON CONFLICT ({qn('node')}, {qn('day')}) DO UPDATE SET {sets}")
        with connection.cursor() as cur:
            cur.execute(sql, params)
    for (key, day), (_kind, _parent, _org_id, inc) in sorted(rows.rows.items()):
        minus = sorted((c, -n) for c, n in inc.items() if n < 0)
        if minus:
            sets = ", ".join(f"{qn(c)} = {qn(c)} - %s" for c, _n in minus)
            with connection.cursor() as cur:
                cur.execute(f"UPDATE {table} SET {sets} WHERE {qn('node')} = %s AND {qn('day')} = %s",
                            [n for _c, n in minus] + [key, adapt(day)])


# ---- rebuild from the timeline ----

@dataclass
class _AppealFacts:
    id: int
    grid_path: str
    place_path: str
    submitted_at: dt.datetime
    respond_due: dt.datetime
    resolve_due: dt.datetime
    category_id: int
    urgency: str


_APPEAL_FIELDS = ("id", "grid_path", "place_path", "submitted_at", "respond_due", "resolve_due", "category_id",
                  "urgency")


def _category_resolve_hours() -> dict[tuple[int, str], int]:
    out = {}
    for cat in Category.objects.all():
        for urgency in ("urgent", "normal"):
            out[(cat.pk, urgency)] = cat.hours(urgency)[1]
    return out


def replay_appeal(a: _AppealFacts, events, resolve_hours) -> list[tuple[int, dict]]:
    """(event id, increments) for an appeal's counted events, oldest first, as `on_event` saw them.

    The appeal as it was before each event is reconstructed: it has had no response until the first
    response event; its resolve deadline is the one set at submission until a rating reopens it,
    then the one the reopening set (the appeal's current `resolve_due`, since it reopens at most
    once). The deadline set at submission is submitted_at + the category's resolve hours: if the
    district changed those hours since, a reopened appeal's first result may be judged against the
    new hours (noted in the operations guide; live counts are unaffected).
    """
    reopened = any(action == Action.RATE and (data or {}).get("reopen") for _id, action, _at, data in events)
    resolve_due = a.resolve_due
    if reopened:
        hours = resolve_hours.get((a.category_id, a.urgency))
        resolve_due = a.submitted_at + dt.timedelta(hours=hours) if hours is not None else a.resolve_due
    responded = overdue = False
    rating = None
    out = []
    for event_id, action, at, data in events:
        data = data or {}
        inc = appeal_increments(action, data, at, first_response=not responded, respond_due=a.respond_due,
                                resolve_due=resolve_due, previous_rating=rating, was_overdue=overdue)
        if action in RESPONSE_ACTIONS:
            responded = True
        if action == OVERDUE:
            overdue = True
        if action == Action.RATE:
            rating = rating_of(data.get("satisfaction"), data.get("resolved"))
        if action == Action.RATE and data.get("reopen"):
            resolve_due = a.resolve_due
        if inc:
            out.append((event_id, inc))
    return out


_WO_FIELDS = ("id", "appeal_id", "assignee_id", "assignee_path", "summoned_at", "report_due", "resolve_due",
              "appeal__place_path")


def _wo_event_q() -> Q:
    return Q(action__in=list(WO_EVENTS)) | Q(action=OVERDUE, data__step__in=list(WO_STEPS))


def replay_work_orders(wos, events) -> dict[int, list[tuple[int, dict]]]:
    """Per work order: (event id, increments) for its summons and every later event about it."""
    by_id = {wo[0]: wo for wo in wos}
    out: dict[int, list] = {wo[0]: [(None, {"summoned": 1})] for wo in wos}
    for event_id, action, at, data in events:
        data = data or {}
        wo_id = _wo_id_of(action, data)
        wo = by_id.get(wo_id)
        if wo is None:
            continue
        inc = work_order_increments(action, data, at, report_due=wo[5], resolve_due=wo[6])
        if inc:
            out[wo_id].append((event_id, inc))
    return out


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes [start 00:00, the day after end 00:00) in the project's time zone."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return lo, hi


def _chunks(qs, fields, size):
    """values_list over `qs` in id order, `size` rows at a time (keyset on id)."""
    last = 0
    while True:
        batch = list(qs.filter(id__gt=last).order_by("id").values_list(*fields)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def _summed(replayed) -> dict:
    """One case's increments added up: they all go to the same rows."""
    out: dict[str, int] = defaultdict(int)
    for _event_id, inc in replayed:
        for name, n in inc.items():
            out[name] += n
    return out


@functools.lru_cache(maxsize=65536)
def _nodes(grid_path: str, place_path: str) -> tuple:
    return tuple(appeal_nodes(grid_path, place_path))


def _rebuild_window(start: dt.date, end: dt.date, resolve_hours, batch: int) -> tuple[int, int, int]:
    lo, hi = _day_bounds(start, end)
    rows = _Rows()
    n_appeals = n_orders = 0
    appeals = Appeal.objects.filter(submitted_at__gte=lo, submitted_at__lt=hi)
    for chunk in _chunks(appeals, _APPEAL_FIELDS, batch):
        n_appeals += len(chunk)
        events = defaultdict(list)
        for appeal_id, *rest in (AppealEvent.objects.filter(appeal_id__in=[a[0] for a in chunk],
                                                            action__in=list(APPEAL_ACTIONS))
                                 .order_by("appeal_id", "id").values_list("appeal_id", "id", "action", "at", "data")):
            events[appeal_id].append(rest)
        for row in chunk:
            a = _AppealFacts(*row)
            rows.add(_nodes(a.grid_path, a.place_path), local_day(a.submitted_at),
                     _summed(replay_appeal(a, events[a.id], resolve_hours)))
    orders = WhistleSummons.objects.filter(summoned_at__gte=lo, summoned_at__lt=hi)
    for chunk in _chunks(orders, _WO_FIELDS, batch):
        n_orders += len(chunk)
        events = list(AppealEvent.objects.filter(_wo_event_q(), appeal_id__in={wo[1] for wo in chunk})
                      .order_by("id").values_list("id", "action", "at", "data"))
        replayed = replay_work_orders(chunk, events)
        for wo in chunk:
            rows.add(work_order_nodes(wo[2], wo[3], wo[7]), local_day(wo[4]), _summed(replayed[wo[0]]))
    AppealRollup.objects.filter(day__gte=start, day__lte=end).delete()
    AppealRollup.objects.bulk_create(
        (AppealRollup(day=day, node=key, kind=kind, parent=parent, org_id=org_id,
                      **{c: inc.get(c, 0) for c in COUNTERS})
         for (key, day), (kind, parent, org_id, inc) in rows.rows.items()),
        batch_size=1000)
    return n_appeals, n_orders, len(rows.rows)


def rebuild(start: dt.date | None = None, end: dt.date | None = None, *, batch: int = 2000, progress=None) -> dict:
    """Recompute the rollups of the months from `start` to `end` (all months when left out) from the
    timeline. Whole months, since a month row sums its days: a date inside a month takes all of it.

    Each month is rebuilt in one transaction that first locks the rollup table on PostgreSQL (live
    transitions wait for it, then add their increments on top of the rebuilt rows; SQLite's writers
    queue anyway). `progress(text)` is called after each month.
    """
    if start is None or end is None:
        first = Appeal.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first()
        last = Appeal.objects.order_by("-submitted_at").values_list("submitted_at", flat=True).first()
        known = AppealRollup.objects.order_by("day").values_list("day", flat=True)
        days = [local_day(x) for x in (first, last) if x is not None] + [d for d in (known.first(),
                                                                                    known.last()) if d]
        if not days:
            return {"appeals": 0, "work_orders": 0, "rows": 0}
        start = start or min(days)
        end = end or max(max(days), timezone.localdate())
    if end < start:
        raise ValidationFailed("end_before_start", _("结束日期 %(end)s 早于开始日期 %(start)s。") % {
            "end": end, "start": start})
    resolve_hours = _category_resolve_hours()
    totals = {"appeals": 0, "work_orders": 0, "rows": 0}
    month = start.replace(day=1)
    while month <= end:
        stop = _add_month(month) - dt.timedelta(days=1)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute(f"LOCK TABLE {connection.ops.quote_name(AppealRollup._meta.db_table)} "
                                "IN SHARE ROW EXCLUSIVE MODE")
            n_a, n_w, n_r = _rebuild_window(month, stop, resolve_hours, batch)
        totals["appeals"] += n_a
        totals["work_orders"] += n_w
        totals["rows"] += n_r
        if progress is not None:
            progress(f"{month:%Y-%m}: {n_a} appeals, {n_w} work orders, {n_r} rollup rows")
        month = _add_month(month)
    return totals


# ---- reading: scope, period, totals ----

@dataclass
class Node:
    key: str
    kind: str  # a RollupKind
    code: str
    name: str
    obj: object

    def out(self) -> dict:
        return {"code": self.code, "name": self.name, "kind": self.kind}


def _node_of(obj) -> Node:
    label = obj._meta.label_lower
    if label == "places.place":
        kind = obj.kind if obj.kind in RollupKind.values else ""
        return Node(place_key(obj.path), kind, obj.code, obj.name, obj)
    if label == "places.grid":
        return Node(grid_key(obj.path), RollupKind.GRID, obj.code, obj.name, obj)
    return Node(org_key(obj.path), RollupKind.ORG, f"org:{obj.pk}", obj.name, obj)


def kpi_scopes(actor) -> list:
    return [s for s in scopes_of(actor) if KPI_VIEW in ROLE_ACTIONS.get(s.role, ())]


def can_view_kpis(actor) -> bool:
    return getattr(actor, "is_superuser", False) or bool(kpi_scopes(actor))


def covers(actor, node: Node) -> bool:
    """A place scope reaches the places, grids and organisations inside it; a grid scope its grid
    subtree; an organisation scope its organisation subtree."""
    if getattr(actor, "is_superuser", False):
        return True
    obj = node.obj
    label = obj._meta.label_lower
    for s in kpi_scopes(actor):
        if label == "places.place" and s.kind == "place" and obj.path.startswith(s.path):
            return True
        if label == "places.grid" and ((s.kind == "grid" and obj.path.startswith(s.path))
                                       or (s.kind == "place" and obj.place_path.startswith(s.path))):
            return True
        if label == "org.organization" and ((s.kind == "org" and obj.path.startswith(s.path))
                                            or (s.kind == "place" and obj.place_path
                                                and obj.place_path.startswith(s.path))):
            return True
    return False


def _not_found(scope) -> NotFound:
    return NotFound("kpi_scope_not_found", _("统计范围 %(scope)s 不存在或您无权查看。") % {"scope": scope})


def resolve_node(actor, scope) -> Node:
    """The node a scope string names (a place code, a grid code or org:<id>), or the same 404 for
    "missing" and "not yours". Empty: the actor's first KPI scope."""
    from gongzhi.org.models import Organization
    from gongzhi.places.models import Grid, Place

    if isinstance(scope, Node):
        node = scope
    else:
        text = str(scope or "").strip()
        if not text:
            defaults = default_nodes(actor)
            if not defaults:
                raise _not_found("")
            return defaults[0]
        obj = None
        if text.startswith("org:"):
            try:
                obj = Organization.objects.filter(pk=int(text[4:])).first()
            except ValueError:
                obj = None
        else:
            obj = Place.objects.filter(code=text).first() or Grid.objects.filter(code=text).first()
        if obj is None:
            raise _not_found(text)
        node = _node_of(obj)
        if not node.kind:  # compounds and buildings carry no counts
            raise _not_found(text)
    if not covers(actor, node):
        raise _not_found(node.code)
    return node


def default_nodes(actor) -> list[Node]:
    """The nodes of the actor's KPI scopes (for a superuser: the top places)."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.places.models import Place

    if getattr(actor, "is_superuser", False):
        return [_node_of(p) for p in Place.objects.filter(parent__isnull=True).order_by("path")[:20]]
    roles = [r for r, actions in ROLE_ACTIONS.items() if KPI_VIEW in actions]
    out, seen = [], set()
    for ra in (RoleAssignment.objects.filter(user=actor, role__in=roles)
               .select_related("place", "grid", "organization").order_by("id")):
        node_obj = ra.grid or ra.organization or ra.place
        node = _node_of(node_obj)
        if node.kind and node.key not in seen:
            seen.add(node.key)
            out.append(node)
    return out


def _parse_day(value, label) -> dt.date:
    if isinstance(value, dt.date):
        return bounds.check_day(value, label)
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("bad_date", _("%(field)s格式不正确：%(value)s（应为 YYYY-MM-DD，例如 2025-06-30）。") % {
            "field": label, "value": value}) from None
    return bounds.check_day(day, label)


def parse_period(start=None, end=None) -> tuple[dt.date, dt.date]:
    """The period asked for, or the current month up to today; at most 366 days, end not before start."""
    today = timezone.localdate()
    s = _parse_day(start, _("开始日期")) if start not in (None, "") else today.replace(day=1)
    e = _parse_day(end, _("结束日期")) if end not in (None, "") else max(today, s)
    if e < s:
        raise ValidationFailed("end_before_start", _("结束日期 %(end)s 早于开始日期 %(start)s，请重新选择。") % {
            "end": e.isoformat(), "start": s.isoformat()})
    days = (e - s).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed("period_too_long", _("统计期间最长 %(max)d 天（现在 %(n)d 天），请缩短期间。") % {
            "max": MAX_DAYS, "n": days})
    return s, e


def parse_metric(metric) -> str:
    if metric not in LIST_METRICS:
        raise ValidationFailed("bad_metric", _("未知的统计指标：%(metric)s。可选：%(list)s。") % {
            "metric": metric, "list": "、".join(LIST_METRICS)})
    return metric


def with_rates(counts: dict) -> dict:
    """Counts plus every rate (4 decimals) and average (2 decimals); None when nothing to divide by."""
    out = {c: int(counts.get(c) or 0) for c in COUNTERS}
    for name, (num, den) in RATES.items():
        d = sum(out[c] for c in den)
        out[name] = round(sum(out[c] for c in num) / d, 4) if d else None
    for name, (num, den) in AVERAGES.items():
        out[name] = round(out[num] / out[den], 2) if out[den] else None
    return out


_SUMS = {c: Sum(c) for c in COUNTERS}


def _add_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_q(field: str, key: str, start: dt.date, end: dt.date) -> Q:
    """Rows of `key` (in `field`: node or parent) covering [start, end]: the month rows of the whole
    months inside it and the day rows of the days before and after them."""
    first = start if start.day == 1 else _add_month(start)  # the first whole month
    stop = _add_month(first)
    if stop - dt.timedelta(days=1) > end:
        return Q(**{field: key}, day__gte=start, day__lte=end)
    last = first  # the first day of the last whole month
    while _add_month(_add_month(last)) - dt.timedelta(days=1) <= end:
        last = _add_month(last)
    q = Q(**{field: month_key(key)}, day__gte=first, day__lte=last)
    if start < first:
        q |= Q(**{field: key}, day__gte=start, day__lt=first)
    tail = _add_month(last)
    if tail <= end:
        q |= Q(**{field: key}, day__gte=tail, day__lte=end)
    return q


def _totals(key: str, start: dt.date, end: dt.date) -> dict:
    return with_rates(AppealRollup.objects.filter(period_q("node", key, start, end)).aggregate(**_SUMS))


def summary(actor, node, start=None, end=None) -> dict:
    """The node's counts and rates over [start, end]: one query on the rollups."""
    node = resolve_node(actor, node)
    start, end = parse_period(start, end)
    return _totals(node.key, start, end)


def _children_objects(node: Node):
    """The nodes one level below `node`, in display order (with no rollup rows they show zeros)."""
    from gongzhi.org.models import Organization
    from gongzhi.places.models import Grid, Place

    label = node.obj._meta.label_lower
    if label == "places.place":
        if node.kind == RollupKind.COMMUNITY:
            return list(Grid.objects.filter(community=node.obj, parent__isnull=True).order_by("code"))
        return list(Place.objects.filter(parent=node.obj, kind__in=RollupKind.values).order_by("code"))
    if label == "places.grid":
        return list(Grid.objects.filter(parent=node.obj).order_by("code"))
    return list(Organization.objects.filter(parent=node.obj).order_by("name", "id"))


def breakdown(actor, node, start=None, end=None) -> dict:
    """Totals, one row per child node, and (for a place) each organisation summoned for appeals in it.

    Three queries on top of resolving the node: the totals, the children's and departments' sums
    (one grouped query over day and month rows), the child nodes; nothing per row.
    """
    node = resolve_node(actor, node)
    start, end = parse_period(start, end)
    totals = _totals(node.key, start, end)
    grouped = (AppealRollup.objects.filter(period_q("parent", node.key, start, end))
               .values("node", "kind", "org_id", "org__name").annotate(**_SUMS).order_by())
    merged: dict[str, dict] = {}  # day rows and month rows of one node, added up
    for row in grouped:
        key = _day_key(row["node"])
        if key not in merged:
            merged[key] = {**row, "node": key}
        else:
            for c in COUNTERS:
                merged[key][c] = (merged[key][c] or 0) + (row[c] or 0)
    by_key, departments = {}, []
    for key, row in merged.items():
        if row["kind"] == RollupKind.DEPT:
            departments.append({"code": f"org:{row['org_id']}", "name": row["org__name"], "kind": "dept",
                                **with_rates(row)})
        else:
            by_key[key] = row
    children = []
    for obj in _children_objects(node):
        child = _node_of(obj)
        children.append({**child.out(), **with_rates(by_key.get(child.key, {}))})
    departments.sort(key=lambda d: (-d["summoned"], d["name"] or ""))
    return {"scope": node.out(), "start": start.isoformat(), "end": end.isoformat(), "totals": totals,
            "children": children, "departments": departments, "overdue_now": overdue_now(node)}


def overdue_now(node: Node, now=None) -> int | None:
    """Appeals in the node that are overdue right now, by the board's rule (selectors.overdue_q), so
    the KPI page and the dispatch board give the same number. None for an organisation (its overdue
    work orders are counted by `wo_overdue`)."""
    from .selectors import overdue_q

    if node.obj._meta.label_lower not in ("places.place", "places.grid"):
        return None
    return Appeal.objects.filter(_scope_filter(node)).filter(overdue_q(now)).count()


# ---- the list behind each number (a drill-down: it may scan, keyset-paginated) ----

@dataclass
class BehindRow:
    appeal: Appeal
    count: int
    at: dt.datetime | None
    work_order: WhistleSummons | None = None


def _scope_filter(node: Node, prefix: str = "") -> Q:
    label = node.obj._meta.label_lower
    if label == "places.place":
        return Q(**{f"{prefix}place_path__startswith": node.obj.path})
    if label == "places.grid":
        return Q(**{f"{prefix}grid_path__startswith": node.obj.path})
    return Q(pk__in=[])


def _parse_cursor(cursor) -> int:
    if cursor in (None, ""):
        return 0
    try:
        return max(0, int(cursor))
    except (TypeError, ValueError):
        raise ValidationFailed("bad_cursor", _("分页游标无效，请从第一页重新开始。")) from None


def appeals_behind(actor, node, start=None, end=None, metric="submitted", *, cursor=None, limit=50, org=None):
    """The appeals (appeal counters) or work orders (work-order counters) counted in one number,
    oldest first, with how much each adds to it: (rows, next cursor). `org` narrows a place's
    work-order number to one organisation (the departments table)."""
    node = resolve_node(actor, node)
    start, end = parse_period(start, end)
    metric = parse_metric(metric)
    after = _parse_cursor(cursor)
    limit = max(1, min(int(limit or 50), 1000))
    lo, hi = _day_bounds(start, end)
    if metric in APPEAL_COUNTERS:
        if node.kind in (RollupKind.ORG,):
            return [], None
        return _behind_appeals(node, lo, hi, metric, after, limit)
    return _behind_work_orders(node, lo, hi, metric, after, limit, org)


def _behind_appeals(node, lo, hi, metric, after, limit):
    from .selectors import with_related

    resolve_hours = _category_resolve_hours()
    actions = list(METRIC_ACTIONS[metric])
    qs = (with_related().filter(_scope_filter(node), submitted_at__gte=lo, submitted_at__lt=hi)
          .filter(Exists(AppealEvent.objects.filter(appeal_id=OuterRef("pk"), action__in=actions))))
    out: list[BehindRow] = []
    last = after
    while len(out) <= limit:
        chunk = list(qs.filter(id__gt=last).order_by("id")[:500])
        if not chunk:
            break
        events = defaultdict(list)
        for appeal_id, *rest in (AppealEvent.objects.filter(appeal_id__in=[a.pk for a in chunk],
                                                            action__in=list(APPEAL_ACTIONS))
                                 .order_by("appeal_id", "id").values_list("appeal_id", "id", "action", "at", "data")):
            events[appeal_id].append(rest)
        for a in chunk:
            facts = _AppealFacts(*(getattr(a, f) for f in _APPEAL_FIELDS))
            at_by_id = {e[0]: e[2] for e in events[a.pk]}
            hits = [(eid, inc[metric]) for eid, inc in replay_appeal(facts, events[a.pk], resolve_hours)
                    if inc.get(metric)]
            total = sum(n for _e, n in hits)
            if total:  # a first rating taken back by the final one adds nothing
                out.append(BehindRow(a, total, at_by_id[hits[-1][0]]))
            last = a.pk
            if len(out) > limit:
                break
    more = len(out) > limit
    out = out[:limit]
    return out, (out[-1].appeal.pk if more and out else None)


def _behind_work_orders(node, lo, hi, metric, after, limit, org):
    from .selectors import work_orders_with_related

    label = node.obj._meta.label_lower
    qs = work_orders_with_related().filter(summoned_at__gte=lo, summoned_at__lt=hi)
    if label == "org.organization":
        qs = qs.filter(assignee_path__startswith=node.obj.path)
    else:
        qs = qs.filter(_scope_filter(node, "appeal__"))
    if org not in (None, ""):
        try:
            qs = qs.filter(assignee_id=int(str(org).removeprefix("org:")))
        except ValueError:
            raise ValidationFailed("bad_org", _("单位编号无效：%(org)s") % {"org": org}) from None
    out: list[BehindRow] = []
    last = after
    while len(out) <= limit:
        chunk = list(qs.filter(id__gt=last).order_by("id")[:500])
        if not chunk:
            break
        facts = [tuple(getattr(wo, f) if f != "appeal__place_path" else wo.appeal.place_path for f in _WO_FIELDS)
                 for wo in chunk]
        events = list(AppealEvent.objects.filter(_wo_event_q(), appeal_id__in={wo.appeal_id for wo in chunk})
                      .order_by("id").values_list("id", "action", "at", "data"))
        at_by_id = {e[0]: e[2] for e in events}
        replayed = replay_work_orders(facts, events)
        for wo in chunk:
            hits = [(eid, inc[metric]) for eid, inc in replayed[wo.pk] if inc.get(metric)]
            if hits:
                at = at_by_id.get(hits[-1][0]) or wo.summoned_at
                out.append(BehindRow(wo.appeal, sum(n for _e, n in hits), at, wo))
            last = wo.pk
            if len(out) > limit:
                break
    more = len(out) > limit
    out = out[:limit]
    return out, (out[-1].work_order.pk if more and out else None)
