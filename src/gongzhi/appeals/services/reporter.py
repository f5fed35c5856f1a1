"""Assisted reporters' personal data: unmasked only with a reason, each read logged."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core import audit, pii, unmask
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import PiiAccess

from .. import selectors
from ..permissions import can_unmask_reporter


def appeal_reporter_unmask(*, actor, appeal, field: str, reason: str, channel: str = "web") -> str:
    """Read an assisted reporter's name or phone in clear: a permission, and always an audit entry
    (who, which appeal, which field, why; never the value)."""
    if field not in ("phone", "name"):
        raise ValidationFailed("bad_field", _("只能查看反映人的姓名或手机号。"))
    reason = unmask.clean_reason(reason)
    a = selectors.appeal_get_for(actor, appeal.pk if hasattr(appeal, "pk") else appeal)
    if not can_unmask_reporter(actor, a):
        raise PermissionDenied("forbidden", _("您没有权限查看诉求 %(number)s 反映人的完整信息。") % {
            "number": a.number})
    unmask.check_rate(actor)
    token = a.reporter_phone_enc if field == "phone" else a.reporter_name_enc
    if not token:
        missing = _("诉求 %(number)s 没有登记反映人的手机号。") if field == "phone" else _("诉求 %(number)s 没有登记反映人的姓名。")
        raise ValidationFailed("nothing_recorded", missing % {"number": a.number})
    with transaction.atomic():
        # The person access log (what auditors read for every clear read) and the hash-chained trail.
        PiiAccess.objects.create(user=actor, person=None, subject=_("诉求 %(number)s") % {"number": a.number},
                                 field=f"reporter_{field}", reason=reason, channel=channel)
        audit.record(actor, "appeal.reporter_unmask", a, after={
            "number": a.number, "field": field, "reason": reason, "channel": channel})
    return pii.decrypt(token)
