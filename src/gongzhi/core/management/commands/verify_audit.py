"""Walk the audit chain; exit 1 naming the first bad entry if any row was altered, removed or moved."""

from django.core.management.base import BaseCommand

from gongzhi.core.audit import verify


class Command(BaseCommand):
    help = ("Verify the hash-chained audit log (the hashed form is in docs/audit.md). Exit code 0 = intact; "
            "1 = tampered, naming the first bad entry (id, action, object) and what is wrong with it.")

    def handle(self, **opts):
        ok, checked, bad_id, reason = verify()
        if ok:
            self.stdout.write(f"audit log intact: {checked} entries verified")
            return
        where = f"entry {bad_id}" if bad_id else "chain head"
        self.stderr.write(f"audit log TAMPERED at {where}: {reason} ({checked} entries verified before it)")
        raise SystemExit(1)
