"""Background jobs: the one home `gongzhi worker` runs, and each app registers its steps with (in its
AppConfig.ready), so that the worker imports no app and a new module adds its steps without touching
it (Zulip's zerver/worker/ keeps one queue processor a file in the same spirit; we keep one broker-less
loop, docs/operations.md says why).

A job is a function of a `JobContext` that returns a line for the worker's output, or None when it had
nothing to say. It runs
- `POLL`: every APPEAL_INTAKE_POLL_SECONDS (work people wait for: queued submits);
- `ROUND`: every SWEEP_INTERVAL_SECONDS (deadline sweeps, then the emails they queued);
- or every so many seconds (a number), checked each round (housekeeping: pruning).
Within a round, jobs run by `order`, low first. Every job must be idempotent and safe to run while
another worker runs it too: the worker runs each once a period, a manual run or a second worker may
run it at the same time, and a job that raises is logged and tried again next period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from .pacing import Pacer

POLL = "poll"
ROUND = "round"


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the worker's stop event (SIGTERM), and a pacer for work that may come in bursts
    (held to SWEEP_DUTY of the clock; it raises pacing.Stopped once the worker is told to stop)."""

    stop: threading.Event | None = None

    def pacer(self) -> Pacer:
        return Pacer(settings.SWEEP_DUTY, stop=self.stop)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], str | None]
    every: str | float
    order: int


_jobs: dict[str, Job] = {}


def register(name: str, run: Callable[[JobContext], str | None], *, every: str | float = ROUND,
             order: int = 50) -> None:
    """Add (or, under the same name, replace) a job. `every`: POLL, ROUND, or seconds between runs."""
    if every not in (POLL, ROUND) and not (isinstance(every, int | float) and every > 0):
        raise ValueError(f"job {name}: every must be POLL, ROUND or a number of seconds, not {every!r}")
    _jobs[name] = Job(name, run, every, order)


def jobs(*, poll: bool = False) -> list[Job]:
    """The POLL jobs (poll=True), or the round's: ROUND and periodic ones, in order."""
    chosen = [j for j in _jobs.values() if (j.every == POLL) == poll]
    return sorted(chosen, key=lambda j: (j.order, j.name))
