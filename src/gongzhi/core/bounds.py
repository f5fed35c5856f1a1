"""Central bounds for numbers and dates taken from requests: one rule, used by every door.

Dates and years asked for in filters (statements, KPIs, service records, calendars) lie between
MIN_DAY and MAX_DAY: 0001-01-01 or 9999-12-31 are valid ISO dates but overflow as soon as a day is
added or a time zone applied, and no record of this platform lies outside that range. Paging
parameters are clamped into what the database can take (a 64-bit OFFSET), never passed on raw.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from .errors import ValidationFailed

MIN_DAY = dt.date(1900, 1, 1)
MAX_DAY = dt.date(2100, 12, 31)
MAX_LIMIT = 200
MAX_PAGE = 1_000_000


def check_day(day: dt.date, label) -> dt.date:
    """`day` if it lies within MIN_DAY..MAX_DAY, else a clear 400."""
    d = day.date() if isinstance(day, dt.datetime) else day
    if not (MIN_DAY <= d <= MAX_DAY):
        raise ValidationFailed("date_out_of_range", _("%(field)s须在 %(min)s 至 %(max)s 之间：%(value)s。") % {
            "field": label, "min": MIN_DAY.isoformat(), "max": MAX_DAY.isoformat(), "value": d.isoformat()})
    return day


def in_range(day: dt.date | None) -> bool:
    return day is not None and MIN_DAY <= day <= MAX_DAY


def check_year(year: int, label=None) -> int:
    if not (MIN_DAY.year <= year <= MAX_DAY.year):
        raise ValidationFailed("year_out_of_range", _("%(field)s须在 %(min)d 至 %(max)d 之间：%(value)s。") % {
            "field": label or _("年份"), "min": MIN_DAY.year, "max": MAX_DAY.year, "value": year})
    return year


DB_INT_MIN, DB_INT_MAX = -(2**63), 2**63 - 1


def db_ids(values) -> list[int]:
    """The integers among `values` that a 64-bit database column can hold (others match no row):
    for `pk__in` lookups, which, unlike `pk=`, Django does not guard against overflow."""
    return [v for v in values if isinstance(v, int) and DB_INT_MIN <= v <= DB_INT_MAX]


def page_window(page: int, limit: int, *, max_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """(page, limit) clamped: limit to 1..max_limit, page to 1..MAX_PAGE, so that OFFSET never overflows."""
    return max(1, min(page, MAX_PAGE)), max(1, min(limit, max_limit))

