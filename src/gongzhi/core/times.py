"""Times typed into forms or sent by clients: one parser for every door (naive means Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import bounds
from .errors import ValidationFailed


def parse_when(value, *, field_label) -> dt.datetime:
    """An aware datetime from a datetime or ISO text ("2026-05-01 09:00", "2026-05-01T09:00+08:00");
    a clear 400 naming the field for anything else or a year outside bounds.MIN_DAY..MAX_DAY."""
    if isinstance(value, dt.datetime):
        when = value
    else:
        try:
            when = parse_datetime(str(value or "").strip()) if value else None
        except ValueError:  # well-formed but impossible, e.g. 2026-02-30
            when = None
        if when is None:
            raise ValidationFailed("bad_time", _("%(field)s格式不正确，请按 2026-05-01 09:00 填写。") % {
                "field": field_label})
    bounds.check_day(when.date(), field_label)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when
