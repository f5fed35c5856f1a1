"""Repeating sessions: rule checks, expansion with cancelled and moved occurrences, labels. No database."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.core.errors import ValidationFailed
from gongzhi.deliberation.recurrence import (
    PRESETS,
    SH,
    Occurrence,
    Series,
    describe,
    normalize_rule,
    occurrences,
    parse_rule,
)

FENG_SI = PRESETS["feng_si"]
THURSDAY = PRESETS["weekly_thu"]
Y2027 = datetime(2027, 1, 1, tzinfo=SH)
Y2028 = datetime(2028, 1, 1, tzinfo=SH)
TWO_HOURS = timedelta(hours=2)


def at(month, day, hour=19, minute=30, year=2027):
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def series(rule=FENG_SI, dtstart=None, cancelled=(), moved=None, duration=TWO_HOURS):
    return Series(rule, dtstart or at(1, 1), duration, frozenset(cancelled), moved or {})


def starts(items):
    return [o.start for o in items]


# --- expansion ------------------------------------------------------------------------------------------


def test_feng_si_over_2027_is_36_sessions_on_the_4th_14th_and_24th_at_the_start_time():
    found = occurrences(series(), Y2027, Y2028)
    assert len(found) == 36
    assert [o.start.day for o in found] == [4, 14, 24] * 12
    assert [o.start.month for o in found] == [m for m in range(1, 13) for _ in range(3)]
    for o in found:
        assert (o.start.hour, o.start.minute, o.start.second) == (19, 30, 0)
        assert o.start.tzinfo == SH and o.start.utcoffset() == timedelta(hours=8)
        assert o.end - o.start == TWO_HOURS
        assert o.original_start == o.start and not o.moved


def test_weekly_thursday_over_2027():
    found = occurrences(series(THURSDAY, dtstart=at(1, 1, 9, 0)), Y2027, Y2028)
    assert len(found) == 52  # 2027 starts on a Friday: 7 January ... 30 December
    assert found[0].start == at(1, 7, 9, 0) and found[-1].start == at(12, 30, 9, 0)
    assert all(o.start.weekday() == 3 for o in found)
    assert all(b.start - a.start == timedelta(days=7) for a, b in zip(found, found[1:], strict=False))


def test_dtstart_counts_only_when_the_rule_matches_it():
    """dateutil's reading: dtstart anchors the rule; a Friday start of a Thursday series is no session."""
    found = occurrences(series(THURSDAY, dtstart=at(1, 1)), Y2027, at(1, 15))
    assert starts(found) == [at(1, 7), at(1, 14)]
    found = occurrences(series(THURSDAY, dtstart=at(1, 7)), Y2027, at(1, 15))
    assert starts(found) == [at(1, 7), at(1, 14)]


def test_a_cancelled_occurrence_leaves_only_that_one_out():
    full = occurrences(series(), Y2027, Y2028)
    found = occurrences(series(cancelled=[at(5, 4)]), Y2027, Y2028)
    assert starts(found) == [s for s in starts(full) if s != at(5, 4)]
    assert len(found) == 35


def test_a_moved_occurrence_appears_at_its_new_time_only():
    moved = {at(10, 4): (at(10, 8, 9, 0), at(10, 8, 11, 30))}  # National Day week: to the Friday morning
    found = occurrences(series(moved=moved), at(10, 1, 0, 0), at(11, 1, 0, 0))
    assert found == [
        Occurrence(at(10, 4), at(10, 8, 9, 0), at(10, 8, 11, 30), True),
        Occurrence(at(10, 14), at(10, 14), at(10, 14) + TWO_HOURS, False),
        Occurrence(at(10, 24), at(10, 24), at(10, 24) + TWO_HOURS, False),
    ]
    assert len(occurrences(series(moved=moved), Y2027, Y2028)) == 36


def test_a_move_is_placed_by_its_new_start_in_either_direction():
    into = {at(3, 4): (at(2, 26, 15, 0), at(2, 26, 16, 0))}  # original outside February, new inside
    found = occurrences(series(moved=into), at(2, 1, 0, 0), at(3, 1, 0, 0))
    assert starts(found) == [at(2, 4), at(2, 14), at(2, 24), at(2, 26, 15, 0)]
    assert found[-1].original_start == at(3, 4) and found[-1].moved
    out = {at(2, 24): (at(3, 2, 15, 0), at(3, 2, 16, 0))}  # original inside February, new outside
    assert starts(occurrences(series(moved=out), at(2, 1, 0, 0), at(3, 1, 0, 0))) == [at(2, 4), at(2, 14)]
    assert starts(occurrences(series(moved=out), at(3, 1, 0, 0), at(3, 5, 0, 0))) == [
        at(3, 2, 15, 0),
        at(3, 4),
    ]


def test_moving_onto_another_occurrences_time_keeps_both_in_original_order():
    moved = {at(1, 24): (at(1, 14), at(1, 14) + TWO_HOURS)}
    found = occurrences(series(moved=moved), Y2027, at(2, 1, 0, 0))
    assert [(o.start, o.original_start) for o in found] == [
        (at(1, 4), at(1, 4)),
        (at(1, 14), at(1, 14)),
        (at(1, 14), at(1, 24)),
    ]


def test_exceptions_for_times_that_are_not_occurrences_are_ignored():
    """Decision: ignored, not refused, so a stale exception (the rule was edited, a typo) cannot break
    expansion; the service storing exceptions checks them when they are entered."""
    stale = series(
        cancelled=[at(2, 5), at(2, 14, 19, 0)],  # not a 4/14/24 day; right day, wrong time
        moved={at(2, 6): (at(2, 20, 10, 0), at(2, 20, 11, 0)), at(1, 4, year=2026): (at(2, 21), at(2, 22))},
    )
    found = occurrences(stale, at(2, 1, 0, 0), at(3, 1, 0, 0))
    assert starts(found) == [at(2, 4), at(2, 14), at(2, 24)]
    assert not any(o.moved for o in found)


def test_cancelled_wins_over_moved():
    both = series(cancelled=[at(2, 14)], moved={at(2, 14): (at(2, 15), at(2, 15) + TWO_HOURS)})
    assert starts(occurrences(both, at(2, 1, 0, 0), at(3, 1, 0, 0))) == [at(2, 4), at(2, 24)]


def test_window_is_start_inclusive_end_exclusive():
    s = series(moved={at(3, 14): (at(3, 24, 9, 0), at(3, 24, 10, 0))})
    assert starts(occurrences(s, at(3, 4), at(3, 24, 9, 0))) == [at(3, 4)]
    assert starts(occurrences(s, at(3, 4), at(3, 24, 9, 0) + timedelta(seconds=1))) == [
        at(3, 4),
        at(3, 24, 9, 0),
    ]
    assert starts(occurrences(s, at(3, 4), at(3, 24))) == [at(3, 4), at(3, 24, 9, 0)]
    assert starts(occurrences(s, at(3, 4) + timedelta(seconds=1), at(3, 25))) == [at(3, 24, 9, 0), at(3, 24)]
    assert occurrences(s, at(3, 24), at(3, 24)) == []
    assert occurrences(s, at(3, 25), at(3, 1)) == []


def test_times_in_other_zones_are_the_same_instants():
    s = series(cancelled=[datetime(2027, 4, 14, 11, 30, tzinfo=UTC)])  # 19:30 in Shanghai
    found = occurrences(s, datetime(2027, 3, 31, 16, tzinfo=UTC), datetime(2027, 4, 30, 16, tzinfo=UTC))
    assert starts(found) == [at(4, 4), at(4, 24)]
    assert all(o.start.tzinfo == SH for o in found)


def test_naive_datetimes_are_a_programming_error():
    with pytest.raises(ValueError):
        series(dtstart=datetime(2027, 1, 1, 19, 30))
    with pytest.raises(ValueError):
        occurrences(series(), datetime(2027, 1, 1), Y2028)
    with pytest.raises(ValueError):
        series(moved={at(2, 4): (at(2, 5, 10, 0), at(2, 5, 9, 0))})  # ends before it starts


def test_count_and_until_end_the_series():
    assert len(occurrences(series(FENG_SI + ";COUNT=5"), Y2027, Y2028)) == 5
    until = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270204T113000Z"  # 4 February 19:30 in Shanghai, inclusive
    found = occurrences(series(until, dtstart=at(1, 1)), Y2027, Y2028)
    assert starts(found)[-1] == at(2, 4) and len(found) == 5


def test_leap_day_rule_is_accepted_and_expanded():
    s = series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", dtstart=at(1, 1))
    found = occurrences(s, Y2027, datetime(2037, 1, 1, tzinfo=SH))
    assert starts(found) == [at(2, 29, year=2028), at(2, 29, year=2032), at(2, 29, year=2036)]


def test_a_window_far_after_the_start_is_expanded():
    found = occurrences(series(dtstart=at(1, 1, year=2024)), Y2027, at(2, 1, 0, 0))
    assert starts(found) == [at(1, 4), at(1, 14), at(1, 24)]


# --- rule checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("garbage", "rule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=4,,14", "rule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=4,14,24;", "rule_invalid"),
        ("FREQ=SOMETIMES", "rule_invalid"),
        ("BYDAY=TH", "rule_invalid"),  # no FREQ
        ("", "rule_invalid"),
        ("FREQ=HOURLY", "rule_invalid"),
        ("FREQ=MINUTELY;INTERVAL=30", "rule_invalid"),
        ("FREQ=DAILY;BYHOUR=9,15", "rule_invalid"),  # twice a day
        ("FREQ=WEEKLY;BYDAY=XX", "rule_invalid"),
        ("FREQ=WEEKLY;BYDAY=2TH", "rule_invalid"),  # ordinals only with MONTHLY/YEARLY
        ("FREQ=WEEKLY;BYMONTHDAY=4", "rule_invalid"),
        ("FREQ=MONTHLY;BYWEEKNO=3", "rule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "rule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "rule_invalid"),
        ("FREQ=MONTHLY;BYMONTH=13", "rule_invalid"),
        ("FREQ=MONTHLY;INTERVAL=0", "rule_invalid"),
        ("FREQ=MONTHLY;BYSETPOS=1", "rule_invalid"),  # BYSETPOS needs another BYxxx
        ("FREQ=WEEKLY;BYDAY=TH;BYDAY=FR", "rule_invalid"),
        ("FREQ=WEEKLY;X-GONGZHI=1", "rule_invalid"),
        ("FREQ=YEARLY;BYEASTER=0", "rule_invalid"),  # a dateutil extension calendar clients lack
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20271231T160000Z", "rule_invalid"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20271231", "rule_invalid"),  # UNTIL must be UTC with a zoned start
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20271231T235959", "rule_invalid"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20271331T000000Z", "rule_invalid"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20261231T000000Z", "rule_no_dates"),  # UNTIL before DTSTART
        ("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2", "rule_no_dates"),
        ("FREQ=MONTHLY;BYDAY=6MO", "rule_no_dates"),
        ("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "rule_no_dates"),  # only odd years from 2027
        ("FREQ=DAILY;COUNT=0", "rule_no_dates"),
        ("FREQ=WEEKLY;BYDAY=TH;" + "WKST=MO;" * 30 + "INTERVAL=1", "rule_invalid"),  # over 200 characters
        ("FREQ=WEEKLY;BYDAY=TH\nFREQ=DAILY", "rule_invalid"),
        ("FREQ=WEEKLY;\r\nBYDAY=TH", "rule_invalid"),
        ("RRULE:FREQ=WEEKLY;BYDAY=TH", "rule_invalid"),
        ("DTSTART:20270101T193000\nRRULE:FREQ=WEEKLY", "rule_invalid"),
        ("DTSTART;TZID=Asia/Shanghai:20270101T193000", "rule_invalid"),
    ],
)
def test_bad_rules_are_refused_with_a_code(rule, code):
    with pytest.raises(ValidationFailed) as caught:
        parse_rule(rule, at(1, 1))
    assert caught.value.code == code
    assert caught.value.extra == {"field": "rule"}
    assert str(caught.value.message)


def test_over_long_rule_message_names_the_limit():
    with pytest.raises(ValidationFailed) as caught:
        parse_rule("FREQ=DAILY;" + "X" * 200, at(1, 1))
    assert "200" in str(caught.value.message)


def test_no_dates_message():
    with pytest.raises(ValidationFailed) as caught:
        parse_rule("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2", at(1, 1))
    assert str(caught.value.message) == "该重复规则不会产生任何日期。"


def test_a_rule_without_dates_is_found_out_in_bounded_time():
    """dateutil alone walks such a daily rule to year 9999 (about ten seconds)."""
    began = time.monotonic()
    for rule in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYMONTHDAY=30;BYSETPOS=2"):
        with pytest.raises(ValidationFailed):
            parse_rule(rule, at(1, 1))
    assert time.monotonic() - began < 4


def test_rules_are_case_insensitive_and_written_canonically():
    assert normalize_rule(" freq=monthly;bymonthday=24,04,14 ") == FENG_SI
    assert normalize_rule("BYDAY=TH;FREQ=WEEKLY") == THURSDAY
    assert normalize_rule("FREQ=MONTHLY;BYDAY=-1FR,+2TU") == "FREQ=MONTHLY;BYDAY=2TU,-1FR"
    assert normalize_rule("FREQ=MONTHLY;BYMONTHDAY=-1,5") == "FREQ=MONTHLY;BYMONTHDAY=5,-1"
    assert parse_rule("freq=weekly;byday=th", at(1, 1))[0] == at(1, 7)


def test_presets_parse():
    for rule in PRESETS.values():
        assert parse_rule(rule, at(1, 1))[0] >= at(1, 1)


RULE_ALPHABET = "FREQ=DAILYWEKMONTHYBSPCUIV;,0123456789-+ZTXRU:\n"
RULE_PIECES = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY",
        "FREQ=MONTHLY",
        "FREQ=YEARLY",
        "FREQ=HOURLY",
        "INTERVAL=2",
        "INTERVAL=0",
        "COUNT=3",
        "UNTIL=20270301T000000Z",
        "UNTIL=20250301T000000Z",
        "BYDAY=TH",
        "BYDAY=-1FR,2TU",
        "BYMONTHDAY=4,14,24",
        "BYMONTHDAY=-1",
        "BYMONTHDAY=31",
        "BYMONTH=2",
        "BYYEARDAY=60",
        "BYWEEKNO=53",
        "BYSETPOS=-1",
        "BYSETPOS=3",
        "WKST=SU",
        "BYHOUR=9",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet=RULE_ALPHABET, max_size=60),
        st.lists(RULE_PIECES, min_size=1, max_size=5).map(";".join),
    )
)
def test_any_string_either_parses_or_is_refused_with_a_code(rule):
    try:
        parsed = parse_rule(rule, at(1, 1))
    except ValidationFailed as error:
        assert error.code in {"rule_invalid", "rule_no_dates"}
    else:
        assert parsed[0] >= at(1, 1)
        assert normalize_rule(normalize_rule(rule)) == normalize_rule(rule)
    assert describe(rule) and describe(rule, "en")


# --- labels ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "zh", "en"),
    [
        (FENG_SI, "每月4日、14日、24日", "the 4th, 14th and 24th of each month"),
        (THURSDAY, "每周四", "every Thursday"),
        ("FREQ=DAILY", "每天", "daily"),
        ("FREQ=DAILY;INTERVAL=3", "每 3 天", "every 3 days"),
        ("FREQ=WEEKLY;BYDAY=TH,MO", "每周一、周四", "every Monday and Thursday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", "每 2 周的周六", "every 2 weeks on Saturday"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,-1", "每月1日、最后一天", "the 1st and last day of each month"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "每月最后一个周五", "the last Friday of each month"),
        (
            "FREQ=MONTHLY;BYDAY=2TU,4TU",
            "每月第二个周二、第四个周二",
            "the second Tuesday and fourth Tuesday of each month",
        ),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5", "每年3月5日", "every year on the 5th of March"),
        (
            FENG_SI + ";COUNT=6",
            "每月4日、14日、24日，共 6 次",
            "the 4th, 14th and 24th of each month, 6 times",
        ),
        (
            THURSDAY + ";UNTIL=20271231T155959Z",
            "每周四，至 2027年12月31日",
            "every Thursday, until 2027-12-31",
        ),
    ],
)
def test_describe(rule, zh, en):
    assert describe(rule) == zh
    assert describe(rule, "zh-hans") == zh
    assert describe(rule, "en") == en


def test_describe_falls_back_to_the_rule():
    rule = "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"
    assert describe(rule) == "按规则 FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"
    assert describe(rule, "en") == "by rule FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"
    assert describe("FREQ=HOURLY") == "按规则 FREQ=HOURLY"
    assert describe("not a rule", "en") == "by rule not a rule"
