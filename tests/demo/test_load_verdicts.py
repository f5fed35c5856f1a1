"""The verdicts of bench/load.py's soak and sweep steps (issue 15): RSS within 10 % of its value after
5 minutes (a sixth of a shorter run), connections that do not grow, p99 drifting by 20 % at most, a
sweep moving p99 by less than 20 %, and the users the soak runs at. Pure functions: no server, no load."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import load  # noqa: E402


def test_the_reference_is_five_minutes_or_a_sixth_of_a_shorter_run():
    assert load.reference_span(30 * 60) == 300
    assert load.reference_span(60 * 60) == 300
    assert load.reference_span(2 * 60) == 20


def _samples(values, conns=None, every=10.0):
    return [{"t": every * (i + 1), "rss": {"gunicorn 1": v}, "conns": (conns or [3] * len(values))[i]}
            for i, v in enumerate(values)]


@pytest.mark.parametrize(("later", "ok"), [
    (110.0, True),  # exactly 10 % more: within
    (90.0, True),  # exactly 10 % less: within
    (110.1, False),
    (89.9, False),
])
def test_rss_stays_within_ten_percent_of_its_value_at_the_reference(later, ok):
    # samples every 10 s of a 2-minute run: the reference is the sample at 20 s (100 MB); the one at
    # 10 s (start-up, 50 MB) does not count
    samples = _samples([50.0, 100.0, 104.0, later, 100.0])
    assert load.rss_verdict(samples, load.reference_span(120))["gunicorn 1"][0] is ok


def test_rss_edges_hold_for_values_that_are_not_round():
    assert load.rss_verdict(_samples([99.0, 99.0 * 1.1]), 10)["gunicorn 1"][0]
    assert not load.rss_verdict(_samples([99.0, 99.0 * 1.101]), 10)["gunicorn 1"][0]


def test_a_process_gone_or_restarted_fails():
    samples = _samples([100.0, 100.0, None])
    assert not load.rss_verdict(samples, 10)["gunicorn 1"][0]
    samples[0]["rss"]["gunicorn 2"] = None
    samples[1]["rss"]["gunicorn 2"] = None
    samples[2]["rss"]["gunicorn 2"] = 80.0  # a new worker after the reference: no value to compare with
    assert not load.rss_verdict(samples, 10)["gunicorn 2"][0]


def test_connections_may_not_grow_past_what_the_first_two_spans_saw():
    # 2 minutes, samples every 10 s: L = 20 s; early = up to 40 s, late = after 100 s
    flat = [2, 3, 3, 2, 3, 3, 2, 3, 3, 3, 2, 3]
    assert load.connections_verdict(_samples([1.0] * 12, flat), 120)[0]
    grown = flat[:-1] + [4]
    assert not load.connections_verdict(_samples([1.0] * 12, grown), 120)[0]
    fewer = flat[:-2] + [1, 1]
    assert load.connections_verdict(_samples([1.0] * 12, fewer), 120)[0]


def _stamps(early_p99, late_p99, duration=120.0):
    """100 requests in (L, 2L] whose p99 is early_p99 and 100 in the last L whose p99 is late_p99, plus
    requests elsewhere (far slower) and errors (counted 0) that no window may take."""
    span = load.reference_span(duration)
    out = [(span + 0.1 * (i + 1), 10.0, 1) for i in range(99)] + [(2 * span, early_p99, 1)]
    out += [(duration - span + 0.1 * (i + 1), 10.0, 1) for i in range(99)] + [(duration, late_p99, 1)]
    out += [(1.0, 5000.0, 1), (2 * span + 1, 5000.0, 1), (span + 1, 9000.0, 0), (duration - 1, 9000.0, 0)]
    return out


@pytest.mark.parametrize(("late", "ok"), [(120.0, True), (80.0, True), (120.2, False), (79.8, False)])
def test_p99_may_drift_by_twenty_percent_either_way(late, ok):
    verdict, _why, drift = load.drift_verdict(_stamps(100.0, late), 120.0)
    assert verdict is ok, drift


def test_windows_are_half_open_unless_asked():
    stamps = [(1.0, 10.0, 1), (2.0, 20.0, 1), (3.0, 30.0, 0)]
    assert load.window_latencies(stamps, 1.0, 3.0) == [20.0]
    assert load.window_latencies(stamps, 1.0, 3.0, closed_lo=True) == [10.0, 20.0]


@pytest.mark.parametrize(("during", "ok"), [(119.0, True), (120.0, False), (81.0, True), (80.0, False)])
def test_a_sweep_must_move_p99_by_less_than_twenty_percent(during, ok):
    before = [10.0] * 99 + [100.0]
    assert load.sweep_verdict(before, [10.0] * 99 + [during])[0] is ok


def test_a_sweep_too_short_for_a_p99_gets_no_verdict():
    enough = [10.0] * load.MIN_REQUESTS
    assert load.sweep_verdict([], enough)[0] is None
    assert load.sweep_verdict(enough[1:], enough)[0] is None
    assert load.sweep_verdict(enough, enough[1:])[0] is None
    assert load.sweep_verdict(enough, enough)[0] is True
    assert load.sweep_verdict(enough, enough[1:] + [500.0])[0] is False


def test_a_soak_window_too_thin_for_a_p99_gets_no_verdict():
    stamps = _stamps(100.0, 500.0)
    assert load.drift_verdict(stamps, 120.0)[0] is False
    thin = stamps[1:]  # one request fewer in (L, 2L]: 99
    assert len(load.window_latencies(thin, 20, 40)) == load.MIN_REQUESTS - 1
    assert load.drift_verdict(thin, 120.0)[0] is None


def _args(**kw):
    return SimpleNamespace(**{"soak_users": None, "soak_share": 0.7, "users": [10, 20, 40, 80], **kw})


def test_the_soak_runs_at_seventy_percent_of_the_users_of_the_highest_sustainable_step():
    mix = [{"users": 10, "p99": 90.0, "rate": 9.0}, {"users": 20, "p99": 150.0, "rate": 18.0},
           {"users": 40, "p99": 299.0, "rate": 30.0}, {"users": 80, "p99": 900.0, "rate": 31.0}]
    assert load.long_step_users(_args(), mix)[0] == 28
    assert load.long_step_users(_args(soak_share=0.5), mix)[0] == 20
    assert load.long_step_users(_args(soak_users=7), mix)[0] == 7  # --soak-users wins
    # no step sustainable, or no steps: the highest --users step
    assert load.long_step_users(_args(), [{"users": 10, "p99": 300.0, "rate": 9.0}])[0] == 80
    assert load.long_step_users(_args(), [])[0] == 80
