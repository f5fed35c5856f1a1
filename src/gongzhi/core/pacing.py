"""Pacing for background jobs: hold a job to a share of the wall clock so that a burst of work (the
first sweep after a long stop, a day of deadlines falling due at once) is spread out instead of taking
the CPU, the database and the audit chain's head away from the web tier for the length of the burst.

A `Pacer` is called after each unit of work (a row written, a batch read). It measures the time since
the previous call and owes a pause in proportion: work of t seconds at duty d owes t·(1−d)/d of pause,
so over any stretch the job works at most a share d of the time. Pauses shorter than `min_pause` are
saved up and taken together (a sleep has a cost and a scheduler tick). Duty 1 never pauses.

A stop event (the worker's SIGTERM) ends a pause at once and raises `Stopped`, so that a paced job can
end between two units of work; every job paced here is idempotent and writes one unit per transaction,
so stopping between units loses nothing.
"""

from __future__ import annotations

import threading
import time


class Stopped(Exception):
    """The stop event was set: end the job between two units of work."""


class Pacer:
    def __init__(self, duty: float = 1.0, *, min_pause: float = 0.05, stop: threading.Event | None = None,
                 clock=time.monotonic, sleep=None):
        if not 0 < duty <= 1:
            raise ValueError(f"duty must be in (0, 1], not {duty!r}")
        self.duty = duty
        self.min_pause = min_pause
        self.stop = stop
        self._clock = clock
        self._sleep = sleep or (stop.wait if stop is not None else time.sleep)
        self._mark = clock()
        self._owed = 0.0
        self.worked = 0.0  # seconds of work seen
        self.paused = 0.0  # seconds paused

    def __call__(self) -> None:
        """One unit of work is done: pause if the job is ahead of its share."""
        now = self._clock()
        worked, self._mark = now - self._mark, now
        self.worked += worked
        if self.stop is not None and self.stop.is_set():
            raise Stopped
        if self.duty >= 1:
            return
        self._owed += worked * (1 - self.duty) / self.duty
        if self._owed < self.min_pause:
            return
        owed, self._owed = self._owed, 0.0
        self._sleep(owed)
        self.paused += owed
        if self.stop is not None and self.stop.is_set():
            raise Stopped
        self._mark = self._clock()  # the pause is not work


def unpaced() -> Pacer:
    """A pacer that never pauses (tests, a one-off `gongzhi sweep --duty 1`)."""
    return Pacer(1.0)
