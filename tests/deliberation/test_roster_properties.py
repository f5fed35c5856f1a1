"""Property tests of the roster's fairness (pure plan, no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.deliberation import roster

START = dt.date(2026, 1, 1)


def months_from(start: dt.date, n: int) -> list[dt.date]:
    out, m = [], start
    for _ in range(n):
        out.append(m)
        m = roster.next_month(m)
    return out


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 14), length=st.integers(1, 48),
       history=st.dictionaries(st.integers(0, 13), st.integers(1, 36), max_size=14))
def test_with_a_steady_membership_any_n_months_see_each_of_n_units_once(n, length, history):
    """max − min chair count ≤ 1 within any window of N months for N active units, whatever the past."""
    units = [roster.Unit(k, dt.date(2020, 1, 1), (roster.Window(dt.date(2020, 1, 1), None),)) for k in range(n)]
    past = {k: START - dt.timedelta(days=30 * ago) for k, ago in history.items() if k < n}
    past = {k: roster.month_start(d) for k, d in past.items()}
    months = months_from(START, length)
    out = roster.plan(months, units, history=past, kept={})
    seq = [out[m] for m in months]
    width = min(n, length)
    for k in range(length - width + 1):
        counts = roster.counts_in_window(out, months[k], width)
        full = [counts.get(u.id, 0) for u in units]
        assert max(full) - min(full) <= 1 and sum(full) == width, (seq, k)


windows = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda ab: (min(ab), max(ab)))


@settings(max_examples=200, deadline=None)
@given(spans=st.lists(st.lists(windows, min_size=1, max_size=2), min_size=1, max_size=10),
       length=st.integers(1, 40))
def test_once_before_twice_with_joins_and_lapses(spans, length):
    """Between a unit's two consecutive turns, every unit that may chair at the second turn has chaired:
    no unit chairs twice while an eligible one waits for its turn (joins and lapses included)."""
    months = months_from(START, length)
    units = []
    for k, ws in enumerate(spans):
        windows_ = tuple(roster.Window(months_from(START, a + 1)[-1], roster.month_end(months_from(START, b + 1)[-1]))
                         for a, b in ws)
        units.append(roster.Unit(k, min(w.starts for w in windows_), windows_))
    out = roster.plan(months, units, history={}, kept={})
    last: dict[int, int] = {}
    for i, m in enumerate(months):
        uid = out[m]
        eligible = [u.id for u in units if u.eligible(m)]
        assert (uid is None) == (not eligible)
        if uid is None:
            continue
        assert uid in eligible
        if uid in last:
            between = {out[months[j]] for j in range(last[uid] + 1, i)}
            assert all(v in between for v in eligible if v != uid), (m, uid)
        last[uid] = i
