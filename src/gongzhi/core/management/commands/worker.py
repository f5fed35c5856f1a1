"""The background worker: run the jobs the apps registered with core.jobs, each at its pace, until told
to stop. Today: create queued appeals every APPEAL_INTAKE_POLL_SECONDS; every SWEEP_INTERVAL_SECONDS the
deadline sweep, then (hourly) pruning of old intake rows, then the notification emails.

One loop, no broker: every poll it runs the POLL jobs (a cheap probe when nothing waits); when a round
is due, the round's jobs in order; repeat; SIGTERM or SIGINT ends it cleanly after the current job (a
paced sweep stops between two rows). Every job is idempotent and safe to run twice at once, so a second
worker (or a cron run of `gongzhi sweep`) does no harm. A job that raises is logged and the loop goes
on; the database being away for a while only delays work.
"""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from gongzhi.core import jobs
from gongzhi.core.pacing import Stopped

log = logging.getLogger("gongzhi.worker")


class Command(BaseCommand):
    help = ("Run the registered background jobs: create queued appeals every APPEAL_INTAKE_POLL_SECONDS, and "
            "run the deadline sweep and deliver notification emails every SWEEP_INTERVAL_SECONDS, until "
            "SIGTERM/SIGINT (then exit 0 after the current job).")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between rounds (default: settings.SWEEP_INTERVAL_SECONDS).")
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")
        parser.add_argument("--rounds", type=int, default=0, help="Stop after this many rounds (0: no limit).")
        parser.add_argument("--intake-only", action="store_true",
                            help="Only the poll jobs (create queued appeals): a second worker beside a full one.")

    def handle(self, *args, interval=None, once=False, rounds=0, intake_only=False, **options):
        interval = settings.SWEEP_INTERVAL_SECONDS if interval is None else interval
        poll = min(settings.APPEAL_INTAKE_POLL_SECONDS, interval) if interval > 0 else settings.APPEAL_INTAKE_POLL_SECONDS
        self._stop = threading.Event()
        self._next_run: dict[str, float] = {}  # periodic jobs: when each is due next (absent: now)
        self._context = jobs.JobContext(stop=self._stop)
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda signum, frame: self._stop.set())
        self.stdout.write(f"worker: every {interval:g}s; stop with SIGTERM")
        done = 0
        next_round = time.monotonic()
        try:
            while not self._stop.is_set():
                for job in jobs.jobs(poll=True):
                    self.run(job)
                if intake_only:
                    done += 1
                elif time.monotonic() >= next_round:
                    self.round()
                    done += 1
                    next_round = time.monotonic() + interval
                if once or (rounds and done >= rounds):
                    break
                self._stop.wait(poll)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"worker: stopped after {done} round(s)")

    def round(self) -> None:
        started = time.monotonic()
        _recycle_connections()
        try:
            for job in jobs.jobs():
                if self._stop.is_set():
                    break
                if job.every != jobs.ROUND:  # periodic: due yet?
                    if time.monotonic() < self._next_run.get(job.name, 0.0):
                        continue
                    self._next_run[job.name] = time.monotonic() + job.every
                self.run(job)
        finally:
            _recycle_connections()
        log.info("worker: round took %.2fs", time.monotonic() - started)

    def run(self, job: jobs.Job) -> None:
        try:
            said = job.run(self._context)
        except Stopped:
            said = f"{job.name}: stopped (SIGTERM)"
        except Exception:
            log.exception("worker: %s failed", job.name)
            _recycle_connections()  # a lost database: the next try starts on a fresh connection
            return
        if said:
            self.stdout.write(said)


def _recycle_connections() -> None:
    """Drop connections past CONN_MAX_AGE or broken (a database restart), as a request would;
    never one inside a transaction (only a test runs the worker inside one)."""
    if not connection.in_atomic_block:
        close_old_connections()
