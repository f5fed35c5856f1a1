"""Deadlines: due-soon and overdue warnings, escalation one level up, auto-close; the sweep drives them.

These run as the system (actor None) from appeals/sweep.py, each in its own short transaction,
and apply the rows of workflow.SWEEP_TABLE, which nobody is ever offered. A warning (overdue,
due soon) changes no state but bumps the version with a compare-and-set, so of two sweeps
running at once exactly one writes it; it is written once per step and deadline (the timeline
is checked first), so a second sweep at the same moment writes nothing. Their timeline notes are
written in the site's language: the sweep has no request to take one from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.core import audit

from .. import hooks, workflow
from ..models import Appeal, AppealEvent, Category, Level, State, SummonsState, WhistleSummons
from ..workflow import LEVEL_UP, Action
from .common import _serialised
from .handlers import _last_mover, level_holder
from .transitions import _stale
from .whistle import _local


def _due_soon_window(hours: float, longest: float | None = None) -> dt.timedelta:
    """A step is due soon in the last APPEAL_DUE_SOON_FRACTION of its length, capped at that
    fraction of the longest category deadline (so the sweep's scan has a bound). `longest` is
    max_step_hours(), a query: the sweep passes it once a scan rather than once a row."""
    longest = max_step_hours() if longest is None else longest
    return dt.timedelta(hours=settings.APPEAL_DUE_SOON_FRACTION * min(hours, longest))


def max_step_hours() -> int:
    """The longest deadline any category sets (hours): the sweep's due-soon scan looks this far ahead."""
    from django.db.models import Max

    agg = Category.objects.aggregate(*(Max(f) for f in ("urgent_respond_hours", "urgent_resolve_hours",
                                                        "normal_respond_hours", "normal_resolve_hours")))
    return max([v for v in agg.values() if v] or [168])


def appeal_step(a: Appeal) -> str | None:
    """Which step the appeal's step_due is the deadline of: a response from the level that holds it
    (submitted, handed on, reopened) or its result (accepted). Dispatched appeals wait on their work
    orders, whose steps are warned one by one; other states have no pending step."""
    if a.state in (State.SUBMITTED, State.ESCALATED, State.REOPENED):
        return workflow.STEP_RESPOND
    if a.state == State.ACCEPTED:
        return workflow.STEP_RESOLVE
    return None


def _appeal_step_hours(a: Appeal, step: str) -> float:
    respond_h, resolve_h = a.category.hours(a.urgency)
    return respond_h if step == workflow.STEP_RESPOND else resolve_h


def work_order_step(wo: WhistleSummons) -> tuple[str | None, dt.datetime | None]:
    if wo.state == SummonsState.SUMMONED:
        return workflow.STEP_REPORT, wo.report_due
    if wo.state == SummonsState.REPORTED:
        return workflow.STEP_WO_RESOLVE, wo.resolve_due
    return None, None


def _same_time(iso, when) -> bool:
    try:
        return dt.datetime.fromisoformat(iso) == when
    except (TypeError, ValueError):
        return False


def warned(appeal_pk, action: str, step: str, due, work_order_pk=None, events=None) -> bool:
    """Whether the timeline already holds this warning (of this step, with this deadline)."""
    if events is None:
        events = AppealEvent.objects.filter(appeal_id=appeal_pk, action=action).values_list("data", flat=True)
    return any(d.get("step") == step and d.get("work_order") == work_order_pk and _same_time(d.get("due"), due)
               for d in events)


def _due_check(action: str, due, now, window: dt.timedelta) -> bool:
    if action == workflow.OVERDUE:
        return due <= now
    return now < due <= now + window


def _sweep_note(action, step, due, *, level) -> str:
    """The timeline's words for a warning, in the site's language (the sweep has no request)."""
    with translation.override(settings.LANGUAGE_CODE):
        template = (_("%(who)s的%(step)s时限 %(due)s 已过。") if action == workflow.OVERDUE
                    else _("%(who)s的%(step)s时限 %(due)s 即将到期。"))
        return template % {"who": level, "step": workflow.STEP_LABELS[step], "due": _local(due)}


def _write_warning(a: Appeal, *, action, step, due, now, extra=None) -> dict | None:
    """Version +1 (compare-and-set on the row as read) and the warning on the timeline; None if lost."""
    if Appeal.objects.filter(pk=a.pk, state=a.state, version=a.version, step_due=due).update(
            version=F("version") + 1) != 1:
        return None
    data = {"step": step, "due": due.isoformat(), "level": a.owner_level, **(extra or {})}
    hooks.record_event(a, at=now, actor=None, action=action, from_state=a.state, to_state=a.state, data=data,
                       note=_sweep_note(action, step, due, level=Level(a.owner_level).label))
    audit.record(None, f"appeal.{action}", a, before={"version": a.version}, after={"version": a.version + 1, **data})
    a.version += 1
    return data


def appeal_warn(*, appeal, action: str, now=None) -> bool:
    """Warn of the appeal's pending step: `overdue` (its deadline passed) or `due_soon`. Once per
    step and deadline; True if this call wrote it. Escalation below the street goes through
    appeal_escalate, which writes the overdue warning itself."""
    if action not in (workflow.OVERDUE, workflow.DUE_SOON):
        raise ValueError(action)
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal

    def run() -> bool:
        a = Appeal.objects.select_related("category").get(pk=pk)
        step, due = appeal_step(a), a.step_due
        if step is None or due is None:
            return False
        if not _due_check(action, due, now, _due_soon_window(_appeal_step_hours(a, step))):
            return False
        if warned(a.pk, action, step, due):
            return False
        return _write_warning(a, action=action, step=step, due=due, now=now) is not None

    return _serialised(run)


def _owner_above(a: Appeal, level: str):
    """Who takes an escalated appeal: whoever handed it down from that level, else the level's holder."""
    user = _last_mover(a, Action.HAND_BACK, level)
    if user is not None:
        return user
    return level_holder(level, grid_path=a.grid_path, place_path=a.place_path)


@dataclass
class EscalateOutcome:
    warned: bool = False  # the overdue warning was written by this call
    escalated: bool = False
    no_handler: bool = False  # overdue below the street, but nobody holds the level above


def appeal_escalate(*, appeal, now=None) -> EscalateOutcome:
    """The step of an appeal at grid or community level is overdue: warn (once), then move it up one
    level to the level's on-duty holder (row `escalate`), as a hand-on would, by the system.

    At the street there is no level above: only the overdue warning is written (the notices tell the
    street and its district). The new level owes a response within the category's respond hours;
    the appeal's resolve deadline is unchanged (it counts from submission, as for a hand-on).
    """
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    out = EscalateOutcome()

    def run() -> EscalateOutcome:
        a = Appeal.objects.select_related("category", "community").get(pk=pk)
        step, due = appeal_step(a), a.step_due
        if step is None or due is None or due > now:
            return out
        rows = [r for r in workflow.sweep_rows_for(a.state, workflow.SweepAction.ESCALATE) if r.allows(a)]
        to_level = LEVEL_UP.get(a.owner_level)
        owner = _owner_above(a, to_level) if rows and to_level else None
        if not warned(a.pk, workflow.OVERDUE, step, due):
            extra = {"escalates": True} if owner is not None else {}
            out.warned = _write_warning(a, action=workflow.OVERDUE, step=step, due=due, now=now,
                                        extra=extra) is not None
            if not out.warned:
                return out  # another sweep is on it
        if not rows or to_level is None:
            return out
        if owner is None:
            out.no_handler = True
            return out
        row = rows[0]
        fields = {"owner": owner, "owner_level": to_level, "step_due": now + dt.timedelta(
            hours=a.category.hours(a.urgency)[0])}
        if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version, step_due=due).update(
                state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
            if out.warned:
                raise _stale(a.pk, None)  # cannot happen while we hold the row; never half-done
            return out
        data = {"step": step, "due": due.isoformat(), "from_level": a.owner_level, "to_level": to_level,
                "from_owner": a.owner_id, "to_owner": owner.pk}
        with translation.override(settings.LANGUAGE_CODE):
            note = _("%(from)s超时未办，自动上报%(to)s。") % {"from": Level(a.owner_level).label,
                                                        "to": Level(to_level).label}
        hooks.record_event(a, at=now, actor=None, action=row.action, from_state=row.source, to_state=row.target,
                           note=note, data=data, changes=fields)
        audit.record(None, f"appeal.{row.action}", a,
                     before={"state": row.source, "version": a.version, "owner": a.owner_id,
                             "owner_level": a.owner_level},
                     after={"state": row.target, "version": a.version + 1, **data})
        out.escalated = True
        return out

    return _serialised(run)


def appeal_auto_close(*, appeal, now=None) -> bool:
    """Close an appeal resolved APPEAL_AUTO_CLOSE_DAYS ago that its reporter has not rated (row
    `auto_close`). Its rating stays empty. True if this call closed it."""
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    days = settings.APPEAL_AUTO_CLOSE_DAYS

    def run() -> bool:
        a = Appeal.objects.get(pk=pk)
        rows = [r for r in workflow.sweep_rows_for(a.state, workflow.SweepAction.AUTO_CLOSE) if r.allows(a)]
        if not rows or a.resolved_at is None or a.resolved_at > now - dt.timedelta(days=days):
            return False
        row = rows[0]
        fields = {"closed_at": now, "step_due": None}
        if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
                state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
            return False
        data = {"resolved_at": a.resolved_at.isoformat(), "days": days}
        with translation.override(settings.LANGUAGE_CODE):
            note = _("办结后 %(days)d 天内未评价，自动结案。") % {"days": days}
        hooks.record_event(a, at=now, actor=None, action=row.action, from_state=row.source, to_state=row.target,
                           note=note, data=data, changes=fields)
        audit.record(None, f"appeal.{row.action}", a, before={"state": row.source, "version": a.version},
                     after={"state": row.target, "version": a.version + 1, **data})
        return True

    return _serialised(run)


def work_order_warn(*, work_order, action: str, now=None) -> bool:
    """Warn of a work order's pending step (report for duty, result): overdue or due soon, once per
    step and deadline, on its appeal's timeline; the notices tell the organisation (and the street,
    when overdue). The compare-and-set is on the work order's version; the appeal row is locked
    first, as every work-order write does."""
    if action not in (workflow.OVERDUE, workflow.DUE_SOON):
        raise ValueError(action)
    now = now or timezone.now()
    pk = work_order.pk if isinstance(work_order, WhistleSummons) else work_order

    def run() -> bool:
        appeal_id = WhistleSummons.objects.values_list("appeal_id", flat=True).get(pk=pk)
        a = Appeal.objects.select_for_update().select_related("category").get(pk=appeal_id)
        wo = WhistleSummons.objects.select_related("assignee").get(pk=pk)
        step, due = work_order_step(wo)
        if step is None or a.state != State.DISPATCHED:
            return False
        window = _due_soon_window((due - wo.summoned_at).total_seconds() / 3600)
        if not _due_check(action, due, now, window) or warned(a.pk, action, step, due, wo.pk):
            return False
        if WhistleSummons.objects.filter(pk=wo.pk, state=wo.state, version=wo.version).update(
                version=F("version") + 1) != 1:
            return False
        data = {"step": step, "due": due.isoformat(), "level": a.owner_level, "work_order": wo.pk,
                "organization": wo.assignee.name, "organization_id": wo.assignee_id}
        hooks.record_event(a, at=now, actor=None, action=action, from_state=a.state, to_state=a.state, data=data,
                           note=_sweep_note(action, step, due, level=wo.assignee.name),
                           work_order=wo, work_order_changes={})
        audit.record(None, f"workorder.{action}", wo, before={"version": wo.version},
                     after={"version": wo.version + 1, "appeal": a.number, **data})
        return True

    return _serialised(run)
