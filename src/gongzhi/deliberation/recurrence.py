"""Repeating deliberation sessions: an RFC 5545 rule, a first start and a length, with exceptions.

"逢四说事" meets on the 4th, 14th and 24th of each month (`FREQ=MONTHLY;BYMONTHDAY=4,14,24`), another
council every Thursday (`FREQ=WEEKLY;BYDAY=TH`). A holiday cancels one occurrence, or moves it to another
time, and only that one. This module is pure: it checks a rule, expands a series over a window and names
common rules for people; saving occurrences as rows and the calendar feed (ics.py) build on it.

The rule is the bare RRULE value (no "RRULE:" prefix, no DTSTART line, one line). Only an RFC 5545 subset
is accepted, written the same way for python-dateutil (which expands it here) and calendar clients (which
expand the feed): FREQ at most DAILY; no BYHOUR/BYMINUTE/BYSECOND (a session starts at the series' time of
day); UNTIL only as UTC date-time (`20271231T155959Z`), as RFC 5545 requires when DTSTART has a time zone;
no COUNT together with UNTIL; the RFC's restrictions on which BYxxx parts go with which FREQ.

Semantics follow dateutil: `dtstart` anchors the rule (time of day, the week or month grid of INTERVAL)
and is itself an occurrence only if the rule matches it. The feed writes the first real occurrence as
DTSTART, so calendar clients (for which DTSTART always counts) see the same dates.

Exceptions are keyed by an occurrence's original start, compared as exact aware datetimes. An exception for
a time that is not an occurrence of the rule (a typo, or left behind after the rule was edited) is ignored,
here and in the feed, rather than refused: expanding a series must not fail on stale data, and checking
exceptions as they are entered is the job of the service that stores them. A start that is both cancelled
and moved counts as cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from django.utils.translation import gettext as _

from gongzhi.core.errors import ValidationFailed

SH = ZoneInfo("Asia/Shanghai")

RULE_MAX = 200  # characters in a rule string
INTERVAL_MAX = 1000
# A rule whose first date lies further than this after dtstart counts as yielding none.
HORIZON = timedelta(days=100 * 366)

PRESETS: dict[str, str] = {
    "feng_si": "FREQ=MONTHLY;BYMONTHDAY=4,14,24",  # 逢四说事: the 4th, 14th and 24th
    "weekly_thu": "FREQ=WEEKLY;BYDAY=TH",
    "daily": "FREQ=DAILY",
}

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
TOO_FREQUENT = ("HOURLY", "MINUTELY", "SECONDLY")
# Canonical order of the parts when a rule is written back.
PART_ORDER = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYSETPOS",
    "WKST",
)
NUMBER_LISTS = {  # part -> (lowest absolute value, highest, negative values allowed)
    "BYMONTH": (1, 12, False),
    "BYWEEKNO": (1, 53, True),
    "BYYEARDAY": (1, 366, True),
    "BYMONTHDAY": (1, 31, True),
    "BYSETPOS": (1, 366, True),
}
TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
BYDAY_ITEM = re.compile(r"([+-]?)([0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
SIGNED = re.compile(r"[+-]?[0-9]{1,3}")
UNTIL_UTC = re.compile(r"[0-9]{8}T[0-9]{6}Z")
UNTIL_LOCAL = re.compile(r"[0-9]{8}(T[0-9]{6})?")

# The two years 400 apart have the same calendar (146097 days, exactly 20871 weeks).
CYCLE_YEARS = 400
MAX_YEAR = 9999


@dataclass(frozen=True)
class Series:
    """A repeating session. All datetimes must be aware; they are kept in Asia/Shanghai, to the second
    (RFC 5545 and dateutil have no fractions of a second)."""

    rule: str
    dtstart: datetime
    duration: timedelta
    cancelled: frozenset[datetime] = frozenset()
    moved: Mapping[datetime, tuple[datetime, datetime]] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        moved = {}
        for original, (new_start, new_end) in self.moved.items():
            new_start, new_end = as_shanghai(new_start), as_shanghai(new_end)
            if new_end <= new_start:
                raise ValueError(f"moved occurrence {original} ends before it starts")
            moved[as_shanghai(original)] = (new_start, new_end)
        object.__setattr__(self, "dtstart", as_shanghai(self.dtstart))
        object.__setattr__(self, "cancelled", frozenset(as_shanghai(c) for c in self.cancelled))
        object.__setattr__(self, "moved", MappingProxyType(moved))


@dataclass(frozen=True)
class Occurrence:
    original_start: datetime
    start: datetime
    end: datetime
    moved: bool


def as_shanghai(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, not {value!r}")
    return value.astimezone(SH).replace(microsecond=0)


def _invalid(message) -> ValidationFailed:
    return ValidationFailed("rule_invalid", message, {"field": "rule"})


def _no_dates() -> ValidationFailed:
    return ValidationFailed("rule_no_dates", _("该重复规则不会产生任何日期。"), {"field": "rule"})


def _numbers(part: str, value: str) -> list[int]:
    low, high, negative = NUMBER_LISTS[part]
    numbers = set()
    for item in value.split(","):
        if not SIGNED.fullmatch(item):
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": part})
        number = int(item)
        if not low <= abs(number) <= high or (item[0] in "+-" and not negative):
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": part})
        numbers.add(number)
    # Positive first, then negative (counted from the end), each ascending.
    return sorted(numbers, key=lambda n: (n < 0, abs(n) if n < 0 else n))


def _weekdays(value: str) -> list[tuple[int, str]]:
    """BYDAY items as (ordinal or 0, weekday), in weekday order."""
    items = set()
    for item in value.split(","):
        match = BYDAY_ITEM.fullmatch(item)
        if not match:
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "BYDAY"})
        sign, digits, day = match.groups()
        if digits is None:
            if sign:
                raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "BYDAY"})
            items.add((0, day))
            continue
        ordinal = int(digits)
        if not 1 <= ordinal <= 53:
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "BYDAY"})
        items.add((-ordinal if sign == "-" else ordinal, day))
    return sorted(items, key=lambda item: (WEEKDAYS.index(item[1]), item[0] < 0, abs(item[0])))


def _parts(rule: str) -> dict:
    """Check a rule's syntax and the RFC 5545 subset this module accepts; return its parts, parsed."""
    if not isinstance(rule, str):
        raise _invalid(_("重复规则格式不正确，应写成 FREQ=WEEKLY;BYDAY=TH 这样。"))
    if len(rule) > RULE_MAX:
        raise _invalid(_("重复规则过长（最多 %(max)d 个字符）。") % {"max": RULE_MAX})
    text = rule.strip().upper()
    if ":" in text or "\n" in text or "\r" in text:
        raise _invalid(_("只填写重复规则本身（如 FREQ=WEEKLY;BYDAY=TH），不要带 RRULE:、DTSTART 或换行。"))
    if not text:
        raise _invalid(_("重复规则缺少 FREQ。"))
    raw: dict[str, str] = {}
    for piece in text.split(";"):
        name, sep, value = piece.partition("=")
        if not sep or not name or not value or "=" in value or not re.fullmatch(r"[A-Z-]+", name):
            raise _invalid(_("重复规则格式不正确，应写成 FREQ=WEEKLY;BYDAY=TH 这样。"))
        if name in TIME_PARTS:
            raise _invalid(_("重复规则不能指定时、分、秒；每次活动都在首次活动的时刻开始。"))
        if name not in PART_ORDER:
            raise _invalid(_("不支持的重复规则项：%(part)s。") % {"part": name})
        if name in raw:
            raise _invalid(_("重复规则项 %(part)s 出现了不止一次。") % {"part": name})
        raw[name] = value
    if "FREQ" not in raw:
        raise _invalid(_("重复规则缺少 FREQ。"))
    parts: dict = {}
    freq = raw["FREQ"]
    if freq in TOO_FREQUENT:
        raise _invalid(_("议事活动最多每天一次，不支持按小时、分钟或秒重复。"))
    if freq not in FREQS:
        raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "FREQ"})
    parts["FREQ"] = freq
    for name in ("INTERVAL", "COUNT"):
        if name in raw:
            value = raw[name]
            limit = INTERVAL_MAX if name == "INTERVAL" else 99999
            if (
                not re.fullmatch(r"[0-9]{1,5}", value)
                or int(value) > limit
                or (name == "INTERVAL" and int(value) < 1)
            ):
                raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": name})
            parts[name] = int(value)
    if "UNTIL" in raw:
        value = raw["UNTIL"]
        if not UNTIL_UTC.fullmatch(value):
            if UNTIL_LOCAL.fullmatch(value):
                raise _invalid(_("UNTIL 须写成 UTC 时间，如 20271231T155959Z。"))
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "UNTIL"})
        try:
            parts["UNTIL"] = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "UNTIL"}) from None
    for name in NUMBER_LISTS:
        if name in raw:
            parts[name] = _numbers(name, raw[name])
    if "BYDAY" in raw:
        parts["BYDAY"] = _weekdays(raw["BYDAY"])
    if "WKST" in raw:
        if raw["WKST"] not in WEEKDAYS:
            raise _invalid(_("重复规则项 %(part)s 的值不正确。") % {"part": "WKST"})
        parts["WKST"] = raw["WKST"]

    def conflict(part, other):
        return _invalid(_("%(part)s 不能与 %(other)s 一起使用。") % {"part": part, "other": other})

    if "COUNT" in parts and "UNTIL" in parts:
        raise conflict("COUNT", "UNTIL")
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise conflict("BYWEEKNO", "FREQ=" + freq)
    if "BYYEARDAY" in parts and freq in ("DAILY", "WEEKLY", "MONTHLY"):
        raise conflict("BYYEARDAY", "FREQ=" + freq)
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise conflict("BYMONTHDAY", "FREQ=" + freq)
    if any(ordinal for ordinal, _day in parts.get("BYDAY", ())):
        if freq not in ("MONTHLY", "YEARLY"):
            raise conflict(_("带序号的 BYDAY"), "FREQ=" + freq)
        if "BYWEEKNO" in parts:
            raise conflict(_("带序号的 BYDAY"), "BYWEEKNO")
    if "BYSETPOS" in parts and not any(name.startswith("BY") and name != "BYSETPOS" for name in parts):
        raise _invalid(_("BYSETPOS 须与其他 BY 规则项一起使用。"))
    return parts


def _write(parts: dict, *, bounded: bool = True) -> str:
    out = []
    for name in PART_ORDER:
        if name not in parts or (not bounded and name in ("COUNT", "UNTIL")):
            continue
        value = parts[name]
        if name == "UNTIL":
            text = value.strftime("%Y%m%dT%H%M%SZ")
        elif name == "BYDAY":
            text = ",".join(f"{ordinal}{day}" if ordinal else day for ordinal, day in value)
        elif isinstance(value, list):
            text = ",".join(str(n) for n in value)
        else:
            text = str(value)
        out.append(f"{name}={text}")
    return ";".join(out)


def normalize_rule(rule: str) -> str:
    """The rule checked and written canonically (upper case, parts in a fixed order, lists sorted):
    what the feed writes as RRULE. Raises ValidationFailed("rule_invalid") like parse_rule."""
    return _write(_parts(rule))


def _first_date(parts: dict, dtstart: datetime) -> datetime | None:
    """The first date of the rule without COUNT/UNTIL, if there is one within HORIZON, in bounded work.

    dateutil stops only on a date it yields or at year 9999, so a rule that yields nothing (BYMONTH=2;
    BYMONTHDAY=30) would be walked to year 9999 (seconds for a daily rule). The calendar repeats every
    400 years and a rule's steps count from its dtstart, so the same rule started 400·k years later yields
    the same dates 400·k years later: start it close enough to year 9999 that the walk is short."""
    shift = 0
    room = MAX_YEAR - dtstart.year - (HORIZON.days // 365 + 1)
    if room >= CYCLE_YEARS:
        shift = room // CYCLE_YEARS * CYCLE_YEARS
    probe = rrulestr(_write(parts, bounded=False), dtstart=dtstart.replace(year=dtstart.year + shift))
    try:
        first = next(iter(probe), None)
    except (ValueError, OverflowError):  # a week or month running past year 9999
        return None
    if first is None:
        return None
    first = first.replace(year=first.year - shift)
    return first if first - dtstart <= HORIZON else None


def parse_rule(rule: str, dtstart: datetime) -> rrule:
    """The dateutil rule for `rule` starting at `dtstart` (aware; used in Asia/Shanghai).

    ValidationFailed("rule_invalid") for anything outside the accepted subset (see the module's
    docstring), ValidationFailed("rule_no_dates") for a rule that yields no date (BYMONTHDAY=31;BYMONTH=2,
    UNTIL before the start, COUNT=0, or a first date more than a century away). The rule returned yields
    at least one date, so walking it up to any bound is bounded work."""
    dtstart = as_shanghai(dtstart)
    parts = _parts(rule)
    if parts.get("COUNT") == 0:
        raise _no_dates()
    first = _first_date(parts, dtstart)
    if first is None or ("UNTIL" in parts and first > parts["UNTIL"]):
        raise _no_dates()
    return rrulestr(_write(parts), dtstart=dtstart)


def _between(rule: rrule, start: datetime, end: datetime) -> Iterator[datetime]:
    """The rule's dates in [start, end); the walk stops at the first date at or after `end`."""
    for when in rule:
        if when >= end:
            return
        if when >= start:
            yield when


def effective_exceptions(
    series: Series,
) -> tuple[frozenset[datetime], dict[datetime, tuple[datetime, datetime]]]:
    """The series' cancellations and moves that refer to real occurrences (cancelled wins over moved)."""
    rule = parse_rule(series.rule, series.dtstart)
    wanted = set(series.cancelled) | set(series.moved)
    real = set()
    if wanted:
        real = set(_between(rule, min(wanted), max(wanted) + timedelta(seconds=1))) & wanted
    cancelled = frozenset(series.cancelled & real)
    moved = {orig: new for orig, new in series.moved.items() if orig in real and orig not in cancelled}
    return cancelled, moved


def occurrences(series: Series, start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences whose start, after any move, lies in [start, end), sorted by start.

    Cancelled occurrences are left out; a moved one is placed by its new start, wherever its original
    start falls. Exceptions for times that are not occurrences of the rule are ignored."""
    rule = parse_rule(series.rule, series.dtstart)
    start, end = as_shanghai(start), as_shanghai(end)
    if end <= start:
        return []
    result = [
        Occurrence(when, when, when + series.duration, False)
        for when in _between(rule, start, end)
        if when not in series.cancelled and when not in series.moved
    ]
    arriving = {
        orig: new
        for orig, new in series.moved.items()
        if start <= new[0] < end and orig not in series.cancelled
    }
    if arriving:
        real = set(_between(rule, min(arriving), max(arriving) + timedelta(seconds=1)))
        result += [Occurrence(orig, ns, ne, True) for orig, (ns, ne) in arriving.items() if orig in real]
    result.sort(key=lambda o: (o.start, o.original_start))
    return result


# --- labels for people ----------------------------------------------------------------------------------

ZH_DAYS = dict(zip(WEEKDAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
EN_DAYS = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
ZH_NUMBERS = ("", "一", "二", "三", "四", "五")
EN_ORDINAL_WORDS = ("", "first", "second", "third", "fourth", "fifth")
EN_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _en_ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _en_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _zh_monthday(n: int) -> str:
    if n > 0:
        return f"{n}日"
    return "最后一天" if n == -1 else f"倒数第{-n}天"


def _en_monthday(n: int) -> str:
    if n > 0:
        return _en_ordinal(n)
    return "last day" if n == -1 else f"{_en_ordinal(-n)}-to-last day"


def _zh_nth(ordinal: int, day: str) -> str:
    if ordinal == -1:
        return "最后一个" + ZH_DAYS[day]
    n = abs(ordinal)
    count = ZH_NUMBERS[n] if n < len(ZH_NUMBERS) else str(n)
    return ("倒数第" if ordinal < 0 else "第") + count + "个" + ZH_DAYS[day]


def _en_nth(ordinal: int, day: str) -> str:
    if ordinal == -1:
        return "last " + EN_DAYS[day]
    n = abs(ordinal)
    word = EN_ORDINAL_WORDS[n] if n < len(EN_ORDINAL_WORDS) else _en_ordinal(n)
    return (f"{_en_ordinal(n)}-to-last " if ordinal < 0 else word + " ") + EN_DAYS[day]


def _describe_zh(parts: dict) -> str | None:
    freq, n = parts["FREQ"], parts.get("INTERVAL", 1)
    keys = set(parts) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}
    days = parts.get("BYDAY", [])
    if freq == "DAILY" and not keys:
        text = "每天" if n == 1 else f"每 {n} 天"
    elif freq == "WEEKLY" and keys == {"BYDAY"}:
        names = "、".join(ZH_DAYS[day] for _o, day in days)
        text = "每" + names if n == 1 else f"每 {n} 周的{names}"
    elif freq == "MONTHLY" and keys == {"BYMONTHDAY"}:
        text = ("每月" if n == 1 else f"每 {n} 个月的") + "、".join(map(_zh_monthday, parts["BYMONTHDAY"]))
    elif freq == "MONTHLY" and keys == {"BYDAY"} and all(o for o, _d in days):
        text = ("每月" if n == 1 else f"每 {n} 个月的") + "、".join(_zh_nth(o, d) for o, d in days)
    elif freq == "YEARLY" and n == 1 and keys == {"BYMONTH", "BYMONTHDAY"} and len(parts["BYMONTH"]) == 1:
        month = parts["BYMONTH"][0]
        text = "每年" + "、".join(f"{month}月{_zh_monthday(d)}" for d in parts["BYMONTHDAY"])
    else:
        return None
    if "COUNT" in parts:
        text += f"，共 {parts['COUNT']} 次"
    if "UNTIL" in parts:
        last = parts["UNTIL"].astimezone(SH)
        text += f"，至 {last.year}年{last.month}月{last.day}日"
    return text


def _describe_en(parts: dict) -> str | None:
    freq, n = parts["FREQ"], parts.get("INTERVAL", 1)
    keys = set(parts) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}
    days = parts.get("BYDAY", [])
    if freq == "DAILY" and not keys:
        text = "daily" if n == 1 else f"every {n} days"
    elif freq == "WEEKLY" and keys == {"BYDAY"}:
        names = _en_join([EN_DAYS[day] for _o, day in days])
        text = "every " + names if n == 1 else f"every {n} weeks on {names}"
    elif freq == "MONTHLY" and keys == {"BYMONTHDAY"}:
        each = "each month" if n == 1 else f"every {n} months"
        text = f"the {_en_join([_en_monthday(d) for d in parts['BYMONTHDAY']])} of {each}"
    elif freq == "MONTHLY" and keys == {"BYDAY"} and all(o for o, _d in days):
        each = "each month" if n == 1 else f"every {n} months"
        text = f"the {_en_join([_en_nth(o, d) for o, d in days])} of {each}"
    elif freq == "YEARLY" and n == 1 and keys == {"BYMONTH", "BYMONTHDAY"} and len(parts["BYMONTH"]) == 1:
        month = EN_MONTHS[parts["BYMONTH"][0]]
        text = f"every year on the {_en_join([_en_monthday(d) for d in parts['BYMONTHDAY']])} of {month}"
    else:
        return None
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    if "UNTIL" in parts:
        text += f", until {parts['UNTIL'].astimezone(SH):%Y-%m-%d}"
    return text


def describe(rule: str, lang: str = "zh") -> str:
    """A label for people: "每月4日、14日、24日" / "the 4th, 14th and 24th of each month", "每周四" /
    "every Thursday", "每天" / "daily"; other rules (and invalid ones) read "按规则 …" / "by rule …".
    `lang` is a language code: Chinese for "zh…" (zh, zh-hans), English for anything else."""
    chinese = str(lang).lower().startswith("zh")
    try:
        parts = _parts(rule)
    except ValidationFailed:
        parts = None
    text = None
    if parts is not None:
        text = _describe_zh(parts) if chinese else _describe_en(parts)
    if text is not None:
        return text
    shown = _write(parts) if parts is not None else str(rule).strip()
    return ("按规则 " if chinese else "by rule ") + shown
