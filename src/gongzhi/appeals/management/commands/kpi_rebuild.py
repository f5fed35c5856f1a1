"""Recompute the appeal KPI rollups from the timeline: backfill, repair, or after a bulk load."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from gongzhi.appeals import kpi
from gongzhi.core.errors import GongzhiError


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = ("Recompute the appeal KPI rollups (AppealRollup) from appeal timelines and work orders for the "
            "whole months from --start to --end (default: every month with appeals). Appeals count on their "
            "submission day, work orders on their summons day. Safe while the site runs: each month is rebuilt "
            "in one transaction, and live transitions add on top of it.")

    def add_arguments(self, parser):
        parser.add_argument("--start", type=_day, help="a day of the first month (YYYY-MM-DD, Asia/Shanghai)")
        parser.add_argument("--end", type=_day, help="a day of the last month (YYYY-MM-DD, Asia/Shanghai)")
        parser.add_argument("--batch", type=int, default=2000, help="appeals read per query (default 2000)")

    def handle(self, *args, start=None, end=None, batch=2000, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        verbose = options.get("verbosity", 1) >= 1
        began = time.monotonic()

        def progress(text):
            if verbose:
                self.stdout.write(f"{text}  ({time.monotonic() - began:.1f} s)")

        try:
            totals = kpi.rebuild(start, end, batch=batch, progress=progress)
        except GongzhiError as exc:
            raise CommandError(str(exc.message)) from None
        if verbose:
            self.stdout.write(self.style.SUCCESS(
                f"kpi rollups rebuilt: {totals['appeals']} appeals, {totals['work_orders']} work orders, "
                f"{totals['rows']} rows in {time.monotonic() - began:.1f} s"))
