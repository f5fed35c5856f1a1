"""The private calendar feed's secret: a token in the URL, kept only as its SHA-256, reset at will."""

from __future__ import annotations

import hashlib
import secrets

from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import PermissionDenied

from ..models import CalendarToken
from .common import busy


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_reset(*, actor) -> str:
    """A new secret for the actor's private feed (the old URL stops working). Shown once."""
    if not getattr(actor, "pk", None) or not actor.is_authenticated:
        raise PermissionDenied("login_required", _("请先登录。"))
    token = secrets.token_urlsafe(24)

    def run():
        CalendarToken.objects.update_or_create(user=actor, defaults={"key_hash": _hash(token)})
        audit.record(actor, "deliberation.feed_token_reset", actor)
        return token

    return busy(run)


def user_for_feed_token(token: str):
    """The active account whose private feed this token opens, or None."""
    if not token or len(token) > 64:
        return None
    row = CalendarToken.objects.select_related("user").filter(key_hash=_hash(token)).first()
    return row.user if row is not None and row.user.is_active else None


def has_feed_token(user) -> bool:
    return CalendarToken.objects.filter(user=user).exists()
