"""Run the deadline sweep once: overdue and due-soon warnings, escalation, auto-close."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gongzhi.appeals.sweep import sweep
from gongzhi.core.pacing import Pacer


class Command(BaseCommand):
    help = ("Find overdue steps (escalate them one level below the street, warn at the street), warn of "
            "deadlines near, auto-close unrated appeals. Idempotent; safe to run while another runs. "
            "Exit code 0 when every row went through, 1 when any failed (see the log).")

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Sweep as of this time (ISO 8601; no offset means Asia/Shanghai).")
        parser.add_argument("--dry-run", action="store_true", help="Write nothing; count what a run would do.")
        parser.add_argument("--batch", type=int, default=500, help="Rows per scan batch (default 500).")
        parser.add_argument("--json", action="store_true", help="Print the counts as one JSON object.")
        parser.add_argument("--duty", type=float, default=None,
                            help="Share of the clock the sweep may work, pausing between rows so that the web "
                                 "tier keeps its pace (default: GONGZHI_SWEEP_DUTY, 0.25; 1 never pauses).")

    def handle(self, *args, now=None, dry_run=False, batch=500, json=False, duty=None, **options):
        when = None
        if now:
            try:
                when = parse_datetime(now)
            except ValueError:
                when = None
            if when is None:
                raise CommandError(f"--now: not an ISO 8601 date and time: {now!r} (e.g. 2026-06-30T18:00)")
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        duty = settings.SWEEP_DUTY if duty is None else duty
        if not 0 < duty <= 1:
            raise CommandError(f"--duty must be more than 0 and at most 1, not {duty:g}")
        report = sweep(now=when, batch=batch, dry_run=dry_run, pace=Pacer(duty))
        counts = report.as_dict()
        if json:
            self.stdout.write(_json(counts | {"dry_run": dry_run}))
        else:
            prefix = "sweep (dry run)" if dry_run else "sweep"
            self.stdout.write(f"{prefix}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if report.errors:
            raise CommandError(f"{report.errors} row(s) failed; see the log", returncode=1)


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
