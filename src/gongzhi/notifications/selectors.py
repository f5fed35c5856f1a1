"""Reads of notifications: always the actor's own, newest first, keyset-paginated."""

from __future__ import annotations

from .models import Notification

PAGE = 20


def notifications_for(actor, *, unread_only=False):
    qs = Notification.objects.filter(recipient_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-id")


def unread_count(actor) -> int:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()


def page_of(qs, *, before=None, limit=PAGE):
    """Newest first, keyset on id: constant cost at any depth. Returns (rows, next_before)."""
    try:
        limit = max(1, min(int(limit or PAGE), 200))
    except (TypeError, ValueError):
        limit = PAGE
    try:
        before = int(before) if before not in (None, "") else None
    except (TypeError, ValueError):
        before = None
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
