"""The deadline sweep (`gongzhi sweep`, and `gongzhi worker` on a schedule): overdue and due-soon
warnings, escalation one level up, auto-close of unrated appeals, and hotspot detection.

It scans with the indexes the inboxes use ((state, step_due) on appeals and work orders) in
keyset batches, checks each batch's timeline for warnings already written (one query a batch),
and hands each remaining row to a service in its own short transaction. Idempotent: a second run
at the same `now` finds every warning written and every escalated appeal with a new deadline, and
writes nothing. Safe when two run at once: every write is a compare-and-set on the row's version
(plus, on PostgreSQL, the row lock its UPDATE takes), so of two sweeps exactly one writes each
warning or escalation and the other counts it as `lost`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from gongzhi.core.errors import GongzhiError
from gongzhi.core.pacing import Pacer, Stopped, unpaced

from . import services, staging, workflow
from .hotspots import detect_hotspots
from .models import SUMMONS_OPEN_STATES, Appeal, AppealEvent, Category, State, WhistleSummons
from .workflow import DUE_SOON, LEVEL_UP, OVERDUE

log = logging.getLogger(__name__)

# States in which an appeal's step_due is a deadline its current level owes (see services.appeal_step).
STEP_STATES = (State.SUBMITTED, State.ESCALATED, State.ACCEPTED, State.REOPENED)


@dataclass
class SweepReport:
    overdue: int = 0  # overdue warnings written (appeals)
    escalated: int = 0
    no_handler: int = 0  # overdue below the street with nobody at the level above (warned only)
    due_soon: int = 0
    auto_closed: int = 0
    work_order_overdue: int = 0
    work_order_due_soon: int = 0
    hotspots_created: int = 0
    hotspots_extended: int = 0
    hotspot_repeats_linked: int = 0
    staged_photos_removed: int = 0  # photos kept across a failed form, expired unused (appeals.staging)
    lost: int = 0  # rows another sweep (or a person) changed first
    errors: int = 0
    stopped = False  # (not a count) the worker was told to stop and the sweep ended between two rows

    def __post_init__(self):
        # (not counts) each part's name with its start and end (time.time()): where a long sweep went
        self.parts: list[tuple[str, float, float]] = []

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> int:
        return (self.overdue + self.escalated + self.due_soon + self.auto_closed + self.work_order_overdue
                + self.work_order_due_soon + self.hotspots_created + self.hotspots_extended
                + self.hotspot_repeats_linked)


def _batches(qs, batch: int, order=("step_due", "id")):
    """Keyset batches of (id, key, …) rows ordered by (key, id): constant cost at any depth."""
    key_field = order[0]
    last = None
    while True:
        page = qs
        if last is not None:
            page = page.filter(Q(**{f"{key_field}__gt": last[1]}) | Q(**{key_field: last[1], "id__gt": last[0]}))
        rows = list(page.order_by(*order)[:batch])
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1]


def _events_by_appeal(appeal_ids, action) -> dict:
    out: dict[int, list] = {}
    for appeal_id, data in AppealEvent.objects.filter(appeal_id__in=appeal_ids, action=action).values_list(
            "appeal_id", "data"):
        out.setdefault(appeal_id, []).append(data)
    return out


def _run(report: SweepReport, field: str, pace: Pacer, fn, **kw) -> None:
    """One row, one transaction; a row that fails is logged and counted, and the sweep goes on."""
    try:
        if fn(**kw):
            setattr(report, field, getattr(report, field) + 1)
        else:
            report.lost += 1
    except GongzhiError:
        report.lost += 1
    except Exception:
        log.exception("sweep: %s failed for %s", fn.__name__, kw)
        report.errors += 1
    pace()


def sweep(now=None, batch: int = 500, dry_run: bool = False, pace: Pacer | None = None) -> SweepReport:
    """Run every check once at `now` (default: the current time) and say what was done.

    With `dry_run`, nothing is written: the report counts what a real run would try (warnings not
    yet on the timeline, escalations below the street, appeals old enough to auto-close).
    `pace` (core.pacing) is called after every row written and every batch read: the worker's pacer
    holds a heavy sweep to SWEEP_DUTY of the clock, and its stop event ends the sweep between two rows
    (`report.stopped`; the next sweep goes on from there, as every step is idempotent).
    """
    now = now or timezone.now()
    pace = pace or unpaced()
    report = SweepReport()
    # The rows that exist as it starts are this sweep's; newer ones are the next one's. A paced sweep
    # takes minutes over a backlog, and its keyset scans must not chase rows created meanwhile (with
    # `now` ahead of the clock, as `--now` allows, every new submit would be due soon at once).
    last = Appeal.objects.order_by("-id").values_list("id", flat=True).first() or 0
    last_wo = WhistleSummons.objects.order_by("-id").values_list("id", flat=True).first() or 0
    parts = [("overdue", lambda: _appeals_overdue(now, batch, dry_run, report, pace, last)),
             ("due_soon", lambda: _appeals_due_soon(now, batch, dry_run, report, pace, last)),
             ("work_orders", lambda: _work_orders(now, batch, dry_run, report, pace, last_wo)),
             ("auto_close", lambda: _auto_close(now, batch, dry_run, report, pace, last))]
    if not dry_run:  # detection writes as it finds; a dry run leaves it to `gongzhi hotspots`
        parts += [("hotspots", lambda: _hotspots(now, report, pace)),
                  ("staged_photos", lambda: _staged_photos(now, batch, report))]
    for name, run in parts:
        started = time.time()
        try:
            run()
        except Stopped:
            report.stopped = True
            break
        finally:
            report.parts.append((name, started, time.time()))
    return report


def _staged_photos(now, batch, report):
    try:
        report.staged_photos_removed += staging.sweep_expired(now, batch=batch)
    except Exception:
        log.exception("sweep: removing expired staged photos failed")
        report.errors += 1


def _hotspots(now, report, pace):
    try:
        found = detect_hotspots(now, pace=pace)
    except Stopped:
        raise
    except Exception:
        log.exception("sweep: hotspot detection failed")
        report.errors += 1
        return
    report.hotspots_created += len(found.created)
    report.hotspots_extended += len(found.extended)
    report.hotspot_repeats_linked += found.linked


def _appeals_overdue(now, batch, dry_run, report, pace, last):
    qs = Appeal.objects.filter(state__in=STEP_STATES, step_due__lte=now, id__lte=last).values_list(
        "id", "step_due", "state", "owner_level")
    for rows in _batches(qs, batch):
        seen = _events_by_appeal([r[0] for r in rows], OVERDUE)
        pace()
        for pk, due, state, level in rows:
            step = services.appeal_step(Appeal(state=state))
            done = services.warned(pk, OVERDUE, step, due, events=seen.get(pk, []))
            below_street = level in LEVEL_UP
            if done and not below_street:
                continue  # warned already; at the street nothing more happens
            if dry_run:
                report.overdue += not done
                report.escalated += below_street
                continue
            _escalate(report, pk, now)
            pace()


def _escalate(report, pk, now) -> None:
    """Warn an overdue appeal and escalate it where a level above exists, in its own transaction."""
    try:
        out = services.appeal_escalate(appeal=pk, now=now)
    except GongzhiError:
        report.lost += 1
        return
    except Exception:
        log.exception("sweep: escalating appeal %s failed", pk)
        report.errors += 1
        return
    report.overdue += out.warned
    report.escalated += out.escalated
    report.no_handler += out.no_handler
    if not (out.warned or out.escalated or out.no_handler):
        report.lost += 1


def _appeals_due_soon(now, batch, dry_run, report, pace, last):
    longest = services.max_step_hours()
    horizon = services._due_soon_window(longest, longest)
    categories = {c.pk: c for c in Category.objects.all()}
    qs = Appeal.objects.filter(state__in=STEP_STATES, step_due__gt=now, step_due__lte=now + horizon,
                               id__lte=last).values_list(
        "id", "step_due", "state", "urgency", "category_id")
    for rows in _batches(qs, batch):
        seen = _events_by_appeal([r[0] for r in rows], DUE_SOON)
        pace()
        for pk, due, state, urgency, category_id in rows:
            step = services.appeal_step(Appeal(state=state))
            respond_h, resolve_h = categories[category_id].hours(urgency)
            window = services._due_soon_window(respond_h if step == workflow.STEP_RESPOND else resolve_h, longest)
            if due > now + window or services.warned(pk, DUE_SOON, step, due, events=seen.get(pk, [])):
                continue
            if dry_run:
                report.due_soon += 1
                continue
            _run(report, "due_soon", pace, services.appeal_warn, appeal=pk, action=DUE_SOON, now=now)


def _work_orders(now, batch, dry_run, report, pace, last):
    longest = services.max_step_hours()
    horizon = services._due_soon_window(longest, longest)
    qs = WhistleSummons.objects.filter(state__in=SUMMONS_OPEN_STATES, step_due__lte=now + horizon, id__lte=last,
                                       appeal__state=State.DISPATCHED).values_list(
        "id", "step_due", "appeal_id", "summoned_at")
    for rows in _batches(qs, batch):
        overdue = _events_by_appeal({r[2] for r in rows}, OVERDUE)
        soon = _events_by_appeal({r[2] for r in rows}, DUE_SOON)
        pace()
        for pk, due, appeal_id, summoned_at in rows:
            action, events = (OVERDUE, overdue) if due <= now else (DUE_SOON, soon)
            if action == DUE_SOON and due > now + services._due_soon_window(
                    (due - summoned_at).total_seconds() / 3600, longest):
                continue
            if any(d.get("work_order") == pk and services._same_time(d.get("due"), due)
                   for d in events.get(appeal_id, [])):
                continue
            field = "work_order_overdue" if action == OVERDUE else "work_order_due_soon"
            if dry_run:
                setattr(report, field, getattr(report, field) + 1)
                continue
            _run(report, field, pace, services.work_order_warn, work_order=pk, action=action, now=now)


def _auto_close(now, batch, dry_run, report, pace, last):
    cutoff = now - dt.timedelta(days=settings.APPEAL_AUTO_CLOSE_DAYS)
    qs = Appeal.objects.filter(workflow.appeal_unrated_q(), state=State.RESOLVED, resolved_at__lte=cutoff,
                               id__lte=last).values_list(
        "id", "resolved_at")
    for rows in _batches(qs, batch, order=("resolved_at", "id")):
        pace()
        for pk, _resolved_at in rows:
            if dry_run:
                report.auto_closed += 1
                continue
            _run(report, "auto_closed", pace, services.appeal_auto_close, appeal=pk, now=now)

