"""core.pacing: a background job works at most its duty's share of the clock, pauses are saved up
until worth a sleep, and a stop event ends the job between two units of work."""

import threading

import pytest

from gongzhi.core.pacing import Pacer, Stopped


class Clock:
    """A clock the test moves by hand; sleeping moves it too."""

    def __init__(self):
        self.t = 100.0
        self.slept = []

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.t += seconds


def test_work_at_a_quarter_duty_pauses_three_times_its_length():
    c = Clock()
    pace = Pacer(0.25, clock=c, sleep=c.sleep)
    for work in (0.1, 0.2, 0.05):
        c.t += work
        pace()
    assert c.slept == [0.3, 0.6, 0.15]
    assert pace.worked == pytest.approx(0.35) and pace.paused == pytest.approx(1.05)
    assert pace.worked / (c.t - 100.0) == pytest.approx(0.25)  # the job's share of the clock


def test_short_pauses_are_saved_up_and_taken_together():
    c = Clock()
    pace = Pacer(0.5, min_pause=0.05, clock=c, sleep=c.sleep)
    for _ in range(4):
        c.t += 0.02  # each owes 0.02 s: the third makes 0.06 ≥ 0.05
        pace()
    assert c.slept == [0.06]
    c.t += 0.04  # 0.02 saved + 0.04 = 0.06
    pace()
    assert c.slept == [0.06, 0.06]


def test_duty_one_never_pauses():
    c = Clock()
    pace = Pacer(1.0, clock=c, sleep=c.sleep)
    for _ in range(100):
        c.t += 1
        pace()
    assert c.slept == [] and pace.worked == 100


@pytest.mark.parametrize("duty", [0, -0.5, 1.5, float("nan")])
def test_a_duty_outside_zero_to_one_is_refused(duty):
    with pytest.raises(ValueError, match="duty"):
        Pacer(duty)


def test_a_stop_event_ends_a_pause_at_once_and_stops_the_job():
    stop = threading.Event()
    pace = Pacer(0.01, min_pause=0, stop=stop)  # without the stop, a pause would last 99 × the work
    pace()
    stop.set()
    with pytest.raises(Stopped):
        pace()


def test_the_stop_is_seen_when_it_comes_during_the_pause():
    stop = threading.Event()
    c = Clock()

    def sleep(seconds):  # SIGTERM arrives while the job pauses
        c.sleep(seconds)
        stop.set()

    pace = Pacer(0.5, min_pause=0, stop=stop, clock=c, sleep=sleep)
    c.t += 1
    with pytest.raises(Stopped):
        pace()
    assert c.slept == [1.0]
