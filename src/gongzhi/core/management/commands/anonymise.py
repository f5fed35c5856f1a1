"""Anonymise closed appeals and needs past the retention period (PIPL art. 19)."""

import json

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core import retention


class Command(BaseCommand):
    help = ("Remove reporters' and requesters' identity and contact details from appeals and needs closed more "
            "than --older-than years ago (default GONGZHI_RETENTION_YEARS), keeping what statistics read. "
            "Idempotent: a second run changes nothing. One audit entry per batch. Exit code 0 on success, "
            "1 on a failed batch (earlier batches stay done), 2 on bad arguments.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, dest="years", default=None, metavar="YEARS",
                            help="Retention period in years (default: the GONGZHI_RETENTION_YEARS setting).")
        parser.add_argument("--dry-run", action="store_true", help="Write nothing; count what a run would do.")
        parser.add_argument("--batch", type=int, default=500, help="Rows per batch and transaction (default 500).")
        parser.add_argument("--json", action="store_true", help="Print the counts as one JSON object.")

    def handle(self, *args, years=None, dry_run=False, batch=500, json=False, **options):
        years = retention.retention_years() if years is None else years
        if not years > 0:
            raise CommandError("--older-than must be a positive number of years", returncode=2)
        if batch < 1:
            raise CommandError("--batch must be at least 1", returncode=2)
        say = (lambda _m: None) if json else (lambda m: self.stdout.write(m))
        try:
            results = retention.run(years=years, dry_run=dry_run, batch=batch, progress=say)
        except Exception as exc:  # a batch failed: it rolled back; report and exit 1
            raise CommandError(f"anonymise failed: {exc}", returncode=1) from exc
        counts = {name: r.rows for name, r in results.items()}
        if json:
            self.stdout.write(_json({"years": years, "dry_run": dry_run, "anonymised": counts}))
        else:
            prefix = "anonymise (dry run)" if dry_run else "anonymise"
            verb = "would anonymise" if dry_run else "anonymised"
            self.stdout.write(f"{prefix}: older than {years:g} years: {verb} "
                              + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
