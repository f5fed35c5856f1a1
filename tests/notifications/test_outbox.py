"""Email delivery from the outbox through Django's configured backend (locmem in tests): once per
row, only to users with an address, retried with backoff, failed after the last attempt."""

import datetime as dt
import io
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import deliver_outbox
from tests.appeals.conftest import submit
from tests.race import join_all


def _with_email(u, address):
    u.email = address
    u.save()
    return u


@pytest.mark.django_db
def test_pending_emails_are_sent_once_to_users_with_an_address(city, settings):
    settings.SITE_URL = "https://gongzhi.example.cn"
    _with_email(city.gw1, "gw1@example.cn")
    a = submit(city.jumin)
    assert Notification.objects.get(recipient=city.gw1).email_state == "pending"
    _with_email(city.cw, "cw@example.cn")
    report = deliver_outbox()
    assert (report.sent, report.failed, report.retry) == (1, 0, 0)
    (msg,) = mail.outbox
    assert msg.to == ["gw1@example.cn"] and a.number in msg.subject
    assert f"https://gongzhi.example.cn/appeals/{a.number}/" in msg.body
    n = Notification.objects.get(recipient=city.gw1)
    assert (n.email_state, n.attempts, n.last_error) == ("sent", 1, "") and n.sent_at is not None
    assert deliver_outbox().sent == 0 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_backend_is_retried_with_backoff_then_marked_failed(city, settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    settings.NOTIFY_EMAIL_MAX_ATTEMPTS = 3
    _with_email(city.gw1, "gw1@example.cn")
    submit(city.jumin)
    now = timezone.now()
    assert deliver_outbox(now=now).retry == 1
    n = Notification.objects.get(recipient=city.gw1)
    assert (n.email_state, n.attempts) == ("pending", 1) and "SMTP server unreachable" in n.last_error
    assert deliver_outbox(now=now + dt.timedelta(seconds=30)).retry == 0  # backing off
    assert deliver_outbox(now=now + dt.timedelta(minutes=2)).retry == 1
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        with _at(now + dt.timedelta(hours=2)):
            call_command("deliver_notifications", stdout=out)
    assert exc.value.returncode == 1 and "failed 1" in out.getvalue()
    n.refresh_from_db()
    assert (n.email_state, n.attempts) == ("failed", 3)
    assert deliver_outbox(now=now + dt.timedelta(days=1)).as_dict() == {"sent": 0, "retry": 0, "failed": 0,
                                                                         "skipped": 0}


class _at:
    """Run with timezone.now() at a fixed moment."""

    def __init__(self, when):
        self.when = when

    def __enter__(self):
        from unittest import mock

        self.patch = mock.patch("django.utils.timezone.now", return_value=self.when)
        self.patch.start()

    def __exit__(self, *exc):
        self.patch.stop()


@pytest.mark.django_db
def test_a_user_who_removed_their_address_is_skipped(city):
    _with_email(city.gw1, "gw1@example.cn")
    submit(city.jumin)
    _with_email(city.gw1, "")
    assert deliver_outbox().skipped == 1
    assert Notification.objects.get(recipient=city.gw1).email_state == "skipped"
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_at_once_send_each_email_once(city):
    _with_email(city.gw1, "gw1@example.cn")
    for _ in range(5):
        submit(city.jumin)
    barrier, reports = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            reports.append(deliver_outbox())
        except Exception as exc:
            reports.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert sum(r.sent for r in reports) == 5, reports
    assert len(mail.outbox) == 5
    assert set(Notification.objects.values_list("email_state", flat=True)) == {"sent"}
