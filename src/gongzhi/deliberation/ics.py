"""Calendar feed (iCalendar, RFC 5545) of deliberation sessions, built with the icalendar library.

A single session is one VEVENT. A repeating one is written the RFC 5545 way, so calendar clients expand it
themselves and agree with recurrence.occurrences(): one VEVENT with DTSTART/DTEND of its first occurrence,
RRULE (the rule, written canonically) and EXDATE (its cancelled occurrences); each moved occurrence is a
further VEVENT with the same UID, RECURRENCE-ID = its original start and DTSTART/DTEND = its new times.
Exceptions for times that are not occurrences are left out, as occurrences() ignores them.

All times are written in Asia/Shanghai with TZID parameters, and the calendar carries its VTIMEZONE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vRecur

from .recurrence import Series, as_shanghai, effective_exceptions, normalize_rule, parse_rule

PRODID = "-//Gongzhi//Deliberation//ZH"


@dataclass(frozen=True)
class FeedEvent:
    """One session, or with `series` a repeating one (whose times come from the series: `start` and
    `end` are then not used)."""

    uid: str
    summary: str
    location: str
    description: str
    start: datetime
    end: datetime
    url: str = ""
    series: Series | None = None


def _vevent(item: FeedEvent, start: datetime, end: datetime, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", item.summary)
    if item.location:
        event.add("location", item.location)
    if item.description:
        event.add("description", item.description)
    if item.url:
        event.add("url", item.url)
    return event


def _series_vevents(item: FeedEvent, stamp: datetime) -> list[Event]:
    series = item.series
    # dateutil counts dtstart only if the rule matches it, RFC 5545 always: start at the first real date.
    first = next(iter(parse_rule(series.rule, series.dtstart)))
    cancelled, moved = effective_exceptions(series)
    main = _vevent(item, first, first + series.duration, stamp)
    main.add("rrule", vRecur.from_ical(normalize_rule(series.rule)))
    if cancelled:
        main.add("exdate", sorted(cancelled))
    events = [main]
    for original in sorted(moved):
        new_start, new_end = moved[original]
        event = _vevent(item, new_start, new_end, stamp)
        event.add("recurrence-id", original)
        events.append(event)
    return events


def build_calendar(
    name: str,
    events: Iterable[FeedEvent],
    *,
    prodid: str = PRODID,
    stamp: datetime | None = None,
) -> bytes:
    """The feed as UTF-8 bytes with CRLF line ends. `stamp` is the DTSTAMP of every VEVENT (default: now);
    a repeating event whose rule is invalid raises ValidationFailed, as recurrence.parse_rule does."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in events:
        if item.series is None:
            start, end = as_shanghai(item.start), as_shanghai(item.end)
            components = [_vevent(item, start, end, stamp)]
        else:
            components = _series_vevents(item, stamp)
        for component in components:
            calendar.add_component(component)
    calendar.add_missing_timezones()
    return calendar.to_ical()
