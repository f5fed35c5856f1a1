"""Writes to the notification outbox: queue messages, mark them read, deliver their emails."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound

from .messages import Msg
from .models import EmailState, Notification

log = logging.getLogger(__name__)


def notify(recipients, *, kind: str, title: Msg, body: Msg | str = "", link="", appeal_number="", target="", exclude=None,
           now=None) -> list[Notification]:
    """Queue one notification per distinct active recipient, in the caller's transaction.

    `title` and `body` are `messages.Msg` (body may be left out): kept as message codes and
    parameters, they are rendered in the reader's language each time the row is shown (page, API,
    email), so a Chinese actor's step reaches an English reader in English. Plain text is refused
    (a TypeError, a programming error): text fixed in one language would reach every reader in it.
    The site-language rendering is stored in `title`/`body` too, as the fallback. `exclude` (the
    actor) gets nothing: nobody is told about their own action.
    """
    if not isinstance(title, Msg) or not title:
        raise TypeError("notify(title=…) takes a messages.Msg, not fixed-language text")
    if body in ("", None):
        body = Msg()
    if not isinstance(body, Msg):
        raise TypeError("notify(body=…) takes a messages.Msg, not fixed-language text")
    seen, users = set(), []
    for u in recipients:
        if u is None or not getattr(u, "is_active", False) or u.pk in seen:
            continue
        if exclude is not None and u.pk == getattr(exclude, "pk", exclude):
            continue
        seen.add(u.pk)
        users.append(u)
    if not users:
        return []
    now = now or timezone.now()
    message = {key: value.parts() for key, value in (("title", title), ("body", body))
               if isinstance(value, Msg) and value}
    with translation.override(settings.LANGUAGE_CODE):
        title_, body_ = title.render()[:200], body.render()
    rows = [Notification(recipient=u, kind=kind, title=title_, body=body_, message=message, link=link,
                         appeal_number=appeal_number, target=target, created_at=now,
                         email_state=EmailState.PENDING if u.email else EmailState.SKIPPED)
            for u in users]
    pending = getattr(_collecting, "rows", None)
    if pending is not None:
        pending.extend(rows)
        return rows
    return Notification.objects.bulk_create(rows)


_collecting = threading.local()


@contextmanager
def collected():
    """Within the block, `notify` queues its rows in memory; they are written with one INSERT at the end.

    For batch writers (the appeal intake creates hundreds of appeals in one transaction): the rows
    still go in the caller's transaction, and nothing is written if the block raises.
    """
    if getattr(_collecting, "rows", None) is not None:  # nested: the outer block writes
        yield
        return
    _collecting.rows = []
    try:
        yield
        rows = _collecting.rows
    finally:
        _collecting.rows = None
    if rows:
        Notification.objects.bulk_create(rows)


def notification_get_for(actor, notification_id) -> Notification:
    """One of the actor's own notifications; anyone else's is the same 404 as a missing one."""
    try:
        pk = int(notification_id)
    except (TypeError, ValueError):
        pk = None
    n = Notification.objects.filter(pk=pk, recipient_id=actor.pk).first() if pk is not None else None
    if n is None:
        raise NotFound("notification_not_found", _("通知不存在或不是您的。"))
    return n


def notification_mark_read(*, actor, notification_id) -> Notification:
    n = notification_get_for(actor, notification_id)
    if n.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=now)
        n.refresh_from_db(fields=["read_at"])
    return n


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())


# ---- email delivery ----

@dataclass
class DeliveryReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retry": self.retry, "failed": self.failed, "skipped": self.skipped}


def _backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the nth failure, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _email(n: Notification) -> EmailMessage:
    # Rendered when sent, from the row's message: in the site's language, as no account records
    # another (the page and the API use the reader's own).
    with translation.override(settings.LANGUAGE_CODE):
        link = f"{settings.SITE_URL.rstrip('/')}{n.link}" if n.link else ""
        text = "\n\n".join(p for p in (n.shown_body, link, _("此邮件由共治平台自动发送，请勿回复。")) if p)
        subject = f"[{_('共治')}] {n.shown_title}"
    return EmailMessage(subject=subject, body=text, to=[n.recipient.email])


def deliver_outbox(*, now=None, batch: int = 100, max_attempts: int | None = None) -> DeliveryReport:
    """Send the pending emails through settings.EMAIL_BACKEND, oldest first.

    Each row is claimed first (compare-and-set on `attempts`, which also pushes `email_next_at` a
    lease ahead), so two deliverers running at once never send one row twice; a deliverer that dies
    after its claim leaves the row to be retried once the lease runs out (at least once). A failure
    is retried with backoff until `max_attempts` (settings.NOTIFY_EMAIL_MAX_ATTEMPTS), then failed.
    Runs outside any transaction: each claim and each result commits on its own.
    """
    now = now or timezone.now()
    max_attempts = max_attempts or settings.NOTIFY_EMAIL_MAX_ATTEMPTS
    lease = dt.timedelta(seconds=settings.NOTIFY_EMAIL_LEASE_SECONDS)
    report = DeliveryReport()
    due = (Notification.objects.filter(email_state=EmailState.PENDING)
           .filter(Q(email_next_at__isnull=True) | Q(email_next_at__lte=now))
           .select_related("recipient").order_by("id")[:batch])
    for n in list(due):
        claimed = Notification.objects.filter(pk=n.pk, email_state=EmailState.PENDING, attempts=n.attempts).update(
            attempts=F("attempts") + 1, email_next_at=now + lease)
        if not claimed:
            continue  # another deliverer has it
        attempts = n.attempts + 1
        if not n.recipient.email or not n.recipient.is_active:
            Notification.objects.filter(pk=n.pk).update(email_state=EmailState.SKIPPED, email_next_at=None)
            report.skipped += 1
            continue
        try:
            _email(n).send(fail_silently=False)
        except Exception as exc:  # any backend error: keep it on the row, try again later
            error = f"{exc.__class__.__name__}: {exc}"[:1000]
            if attempts >= max_attempts:
                Notification.objects.filter(pk=n.pk).update(email_state=EmailState.FAILED, last_error=error,
                                                            email_next_at=None)
                report.failed += 1
                log.warning("notification %s: email failed for good after %s attempts: %s", n.pk, attempts, error)
            else:
                Notification.objects.filter(pk=n.pk).update(last_error=error, email_next_at=now + _backoff(attempts))
                report.retry += 1
            continue
        Notification.objects.filter(pk=n.pk).update(email_state=EmailState.SENT, sent_at=timezone.now(),
                                                    email_next_at=None, last_error="")
        report.sent += 1
    return report
