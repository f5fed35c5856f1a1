"""The rules every clear read of personal data shares, whether through a page or the API: a reason
(it goes into the access log), and a rate limit per user counted from that user's own access log
rows of the last hour (settings.UNMASK_PER_HOUR, env GONGZHI_UNMASK_PER_HOUR, default 30)."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import TooManyRequests, ValidationFailed
from .models import PiiAccess

REASON_MAX = 200  # PiiAccess.reason; the pages' forms allow as much


def clean_reason(reason) -> str:
    """The reason, stripped; refused when blank or too long (nothing is logged, nothing revealed)."""
    reason = (reason if isinstance(reason, str) else "").strip()
    if not reason:
        raise ValidationFailed("reason_required", _("请填写查看原因，它会记入个人信息访问日志。"))
    if len(reason) > REASON_MAX:
        raise ValidationFailed("reason_too_long", _("查看原因最多 %(n)s 个字。") % {"n": REASON_MAX})
    return reason


def check_rate(actor) -> None:
    """Refuse a clear read when the actor made UNMASK_PER_HOUR of them in the last hour."""
    limit = int(getattr(settings, "UNMASK_PER_HOUR", 30))
    now = timezone.now()
    window = dt.timedelta(hours=1)
    recent = list(PiiAccess.objects.filter(user=actor, at__gt=now - window)
                  .order_by("-at").values_list("at", flat=True)[:max(limit, 1)])
    if len(recent) < limit:
        return
    # Allowed again once the limit-th most recent read leaves the hour.
    wait = max(1, math.ceil((recent[-1] + window - now).total_seconds())) if recent else 3600
    raise TooManyRequests(
        "unmask_rate_limited",
        _("您在一小时内查看完整个人信息已达 %(n)s 次上限，请 %(m)s 分钟后再试。") % {
            "n": limit, "m": math.ceil(wait / 60)},
        {"retry_after": wait})
