"""`gongzhi hotspots`: find hotspot warnings (未诉先办) and link new repeats; the sweep calls the same function."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gongzhi.appeals.hotspots import detect_hotspots, hotspot_settings


class Command(BaseCommand):
    help = ("Detect hotspots: N or more appeals of one category within R metres and T days "
            "(APPEAL_HOTSPOT_MIN_COUNT, _RADIUS_M, _DAYS). Idempotent; safe to run twice at once.")

    def add_arguments(self, parser):
        parser.add_argument("--now", default="",
                            help="Detect as of this time (ISO 8601; without an offset Asia/Shanghai). Default: now.")

    def handle(self, *args, now="", **options):
        when = None
        if now:
            try:
                when = parse_datetime(now.strip())
            except ValueError:
                when = None
            if when is None:
                raise CommandError(f"--now: not an ISO 8601 date and time: {now!r} (e.g. 2026-06-30T18:00)")
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        n, radius, days = hotspot_settings()
        result = detect_hotspots(when)
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(self.style.SUCCESS(
                f"hotspots (N={n}, R={radius} m, T={days} d): {len(result.created)} created, "
                f"{len(result.extended)} extended, {result.linked} appeals linked, "
                f"{result.categories} categories with new appeals"))
