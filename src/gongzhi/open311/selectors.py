"""Reads for the facade: the public open-data view of appeals, a fixed number of queries a page.

Open311 is public: every appeal is listed, to anyone, and the privacy rules in services.py decide
what each caller sees of it. The reporter's encrypted and masked fields are never even loaded.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from gongzhi.appeals.models import Appeal
from gongzhi.appeals.public import public_queryset
from gongzhi.core.errors import NotFound

from .services import CLOSED, CLOSED_STATES, MAX_RESULTS, OPEN, Filters


def public_appeals():
    """The appeals as the one public view reads them (appeals.public): nothing personal is loaded."""
    return public_queryset()


def requests_matching(f: Filters) -> list[Appeal]:
    """Newest first (ids grow with submission time), at most MAX_RESULTS."""
    qs = public_appeals()
    if f.ids:
        qs = qs.filter(number__in=f.ids)
    else:
        qs = qs.filter(submitted_at__gte=f.start, submitted_at__lte=f.end)
        if f.codes:
            qs = qs.filter(category__code__in=f.codes)
        if f.statuses == {OPEN}:
            qs = qs.exclude(state__in=CLOSED_STATES)
        elif f.statuses == {CLOSED}:
            qs = qs.filter(state__in=CLOSED_STATES)
    return list(qs.order_by("-id")[:MAX_RESULTS])


def request_get(number: str) -> Appeal:
    appeal = public_appeals().filter(number=number.strip().upper()).first()
    if appeal is None:
        raise NotFound("unknown_request", _("未找到诉求（service_request_id）：%(id)s") % {"id": number})
    return appeal
