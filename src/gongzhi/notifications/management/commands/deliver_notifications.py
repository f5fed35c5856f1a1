"""Send the outbox's pending emails once (the worker does this on its schedule too)."""

from django.core.management.base import BaseCommand, CommandError

from gongzhi.notifications.services import deliver_outbox


class Command(BaseCommand):
    help = ("Send pending notification emails through EMAIL_BACKEND; failures are retried with backoff and "
            "marked failed after NOTIFY_EMAIL_MAX_ATTEMPTS. Exit code 1 if any email failed for good.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=100, help="At most this many emails (default 100).")

    def handle(self, *args, batch=100, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        report = deliver_outbox(batch=batch)
        self.stdout.write("notifications: " + ", ".join(f"{k} {v}" for k, v in report.as_dict().items()))
        if report.failed:
            raise CommandError(f"{report.failed} email(s) failed for good; see last_error in the admin",
                               returncode=1)
