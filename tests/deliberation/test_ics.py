"""The calendar feed: its shape, and that calendar software expands it to the service's occurrences."""

from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from gongzhi.core.errors import ValidationFailed
from gongzhi.deliberation.ics import FeedEvent, build_calendar
from gongzhi.deliberation.recurrence import PRESETS, SH, Series, occurrences, parse_rule

STAMP = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(month, day, hour=19, minute=30, year=2027):
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def feed_event(series=None, uid="feng-si-1@gongzhi", start=None, end=None):
    start = start or at(1, 1)
    return FeedEvent(
        uid=uid,
        summary="逢四说事",
        location="幸福里社区党群服务中心",
        description="议题：停车难; 电梯加装，逐项表决\\",
        start=start,
        end=end or start + timedelta(hours=2),
        url="https://gongzhi.example/d/1",
        series=series,
    )


def feng_si(**kw):
    return Series(PRESETS["feng_si"], at(1, 1), timedelta(hours=2), **kw)


def vevents(cal):
    return list(cal.walk("VEVENT"))


def expanded(cal, start, end):
    """recurring-ical-events returns every event that overlaps [start, end); the service selects by
    start, so keep those starting in the window."""
    found = recurring_ical_events.of(cal).between(start, end)
    return sorted((e.start.astimezone(SH), e.end.astimezone(SH)) for e in found if e.start >= start)


def test_the_feed_has_the_calendar_properties_and_a_shanghai_vtimezone():
    raw = build_calendar("幸福里议事日历", [feed_event(feng_si())], stamp=STAMP)
    assert isinstance(raw, bytes)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert "X-WR-CALNAME:幸福里议事日历".encode() in raw
    cal = Calendar.from_ical(raw)
    assert str(cal["PRODID"]) == "-//Gongzhi//Deliberation//ZH"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == "幸福里议事日历"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert cal.get_missing_tzids() == set()


def test_a_series_is_written_with_rrule_exdate_and_recurrence_id():
    series = feng_si(
        cancelled=frozenset({at(2, 4), at(5, 14)}),
        moved={at(10, 4): (at(10, 8, 9, 0), at(10, 8, 11, 0))},
    )
    cal = Calendar.from_ical(build_calendar("议事", [feed_event(series)], stamp=STAMP))
    main, moved = vevents(cal)
    assert str(main["UID"]) == str(moved["UID"]) == "feng-si-1@gongzhi"
    assert main["RRULE"].to_ical() == b"FREQ=MONTHLY;BYMONTHDAY=4,14,24"
    # DTSTART is the first real occurrence (4 January), not the series' 1 January anchor.
    assert main.start == at(1, 4) and main.end == at(1, 4, 21, 30)
    assert main["DTSTART"].params["TZID"] == "Asia/Shanghai"
    exdates = main["EXDATE"] if isinstance(main["EXDATE"], list) else [main["EXDATE"]]
    assert sorted(d.dt for line in exdates for d in line.dts) == [at(2, 4), at(5, 14)]
    assert "RECURRENCE-ID" not in main and "RRULE" not in moved and "EXDATE" not in moved
    assert moved["RECURRENCE-ID"].dt == at(10, 4)
    assert moved["RECURRENCE-ID"].params["TZID"] == "Asia/Shanghai"
    assert moved.start == at(10, 8, 9, 0) and moved.end == at(10, 8, 11, 0)
    for event in (main, moved):
        assert event["DTSTAMP"].dt == STAMP
        assert str(event["SUMMARY"]) == "逢四说事"
        assert str(event["LOCATION"]) == "幸福里社区党群服务中心"
        assert str(event["DESCRIPTION"]) == "议题：停车难; 电梯加装，逐项表决\\"
        assert str(event["URL"]) == "https://gongzhi.example/d/1"


def test_exceptions_that_are_not_occurrences_are_left_out_and_cancelled_wins():
    series = feng_si(
        cancelled=frozenset({at(2, 5), at(3, 4)}),
        moved={at(2, 6): (at(2, 7), at(2, 7, 21)), at(3, 4): (at(3, 5), at(3, 5, 21))},
    )
    cal = Calendar.from_ical(build_calendar("议事", [feed_event(series)], stamp=STAMP))
    (main,) = vevents(cal)
    assert [d.dt for d in main["EXDATE"].dts] == [at(3, 4)]


def test_a_series_without_exceptions_has_no_exdate():
    (main,) = vevents(Calendar.from_ical(build_calendar("议事", [feed_event(feng_si())], stamp=STAMP)))
    assert "EXDATE" not in main and "RRULE" in main


def test_a_single_event_and_times_given_in_utc():
    single = feed_event(uid="one@gongzhi", start=datetime(2027, 2, 10, 1, 0, tzinfo=UTC))
    plain = FeedEvent("two@gongzhi", "议事会", "", "", at(3, 1, 9, 0), at(3, 1, 10, 0))
    cal = Calendar.from_ical(build_calendar("议事", [single, plain], stamp=STAMP))
    first, second = vevents(cal)
    assert first.start == at(2, 10, 9, 0) and first["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert "RRULE" not in first and "EXDATE" not in first
    assert "LOCATION" not in second and "DESCRIPTION" not in second and "URL" not in second
    assert second.end == at(3, 1, 10, 0)


def test_dtstamp_defaults_to_now():
    before = datetime.now(UTC).replace(microsecond=0)
    (event,) = vevents(Calendar.from_ical(build_calendar("议事", [feed_event()])))
    assert before <= event["DTSTAMP"].dt <= datetime.now(UTC)


def test_an_invalid_rule_is_refused():
    bad = Series("FREQ=HOURLY", at(1, 1), timedelta(hours=1))
    with pytest.raises(ValidationFailed) as caught:
        build_calendar("议事", [feed_event(bad)])
    assert caught.value.code == "rule_invalid"


def test_recurring_ical_events_matches_the_service_on_an_example():
    series = feng_si(
        cancelled=frozenset({at(2, 4)}),
        moved={at(2, 14): (at(3, 1, 9, 0), at(3, 1, 11, 0)), at(3, 24): (at(2, 20, 15, 0), at(2, 20, 16, 0))},
    )
    cal = Calendar.from_ical(build_calendar("议事", [feed_event(series)], stamp=STAMP))
    window = (at(2, 1, 0, 0), at(3, 1, 0, 0))
    assert expanded(cal, *window) == [(o.start, o.end) for o in occurrences(series, *window)]
    assert [s for s, _e in expanded(cal, *window)] == [at(2, 20, 15, 0), at(2, 24)]


def test_recurring_ical_events_returns_overlapping_events_too():
    """Why `expanded` filters: a session that started before the window but runs into it is returned."""
    cal = Calendar.from_ical(build_calendar("议事", [feed_event(feng_si())], stamp=STAMP))
    found = recurring_ical_events.of(cal).between(at(1, 4, 20, 0), at(1, 5, 0, 0))
    assert [e.start for e in found] == [at(1, 4)]
    assert occurrences(feng_si(), at(1, 4, 20, 0), at(1, 5, 0, 0)) == []


RULES = [
    *PRESETS.values(),
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SA",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=2TU,4TU",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=4,14,24",
    "FREQ=DAILY;INTERVAL=3;COUNT=40",
    "FREQ=WEEKLY;BYDAY=TH;COUNT=12",
    "FREQ=MONTHLY;BYMONTHDAY=4,14,24;UNTIL=20280301T000000Z",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    rule=st.sampled_from(RULES),
    dtstart=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
    minutes=st.integers(min_value=15, max_value=8 * 60),
)
def test_the_feed_expands_to_the_services_occurrences(data, rule, dtstart, minutes):
    dtstart = dtstart.replace(tzinfo=SH, microsecond=0)
    try:
        rrule = parse_rule(rule, dtstart)
    except ValidationFailed:
        assume(False)
    candidates = []
    for when in rrule:  # the first 60 occurrences, within two years
        if candidates and (when > dtstart + timedelta(days=730) or len(candidates) == 60):
            break
        candidates.append(when)
    cancelled = data.draw(st.sets(st.sampled_from(candidates), max_size=8), label="cancelled")
    moved_originals = data.draw(st.sets(st.sampled_from(candidates), max_size=8), label="moved")
    moved = {}
    for original in moved_originals:
        shift = timedelta(minutes=data.draw(st.integers(-40 * 1440, 40 * 1440), label="shift"))
        length = timedelta(minutes=data.draw(st.integers(1, 10 * 60), label="length"))
        moved[original] = (original + shift, original + shift + length)
    start = dtstart + timedelta(minutes=data.draw(st.integers(-30 * 1440, 600 * 1440), label="start"))
    length = data.draw(st.integers(1, 150 * 1440), label="window")
    end = start + timedelta(minutes=length)
    # Exceptions for times that are not occurrences, moved into the window: the service ignores them,
    # so the feed must not carry them (calendar software would show such a RECURRENCE-ID).
    if data.draw(st.booleans(), label="stale"):
        cancelled.add(candidates[0] + timedelta(minutes=1))
        into = start + timedelta(minutes=data.draw(st.integers(0, length - 1), label="into"))
        moved[candidates[-1] + timedelta(hours=1)] = (into, into + timedelta(hours=1))
    series = Series(rule, dtstart, timedelta(minutes=minutes), frozenset(cancelled), moved)

    raw = build_calendar("议事", [feed_event(series)], stamp=STAMP)
    cal = Calendar.from_ical(raw)
    assert expanded(cal, start, end) == [(o.start, o.end) for o in occurrences(series, start, end)]


def test_vtimezone_covers_the_feed():
    """icalendar writes Shanghai's VTIMEZONE for 1970-2038; its last STANDARD part (UTC+8 since 1991)
    stays in force, so later sessions are read at +08:00 too."""
    later = Series(PRESETS["weekly_thu"], at(1, 1, year=2045), timedelta(hours=1))
    cal = Calendar.from_ical(build_calendar("议事", [feed_event(later)], stamp=STAMP))
    found = expanded(cal, at(1, 1, 0, 0, year=2045), at(2, 1, 0, 0, year=2045))
    assert [s.utcoffset() for s, _e in found] == [timedelta(hours=8)] * 4
    assert found[0][0] == datetime(2045, 1, 5, 19, 30, tzinfo=SH)  # a Thursday
