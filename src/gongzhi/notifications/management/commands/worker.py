"""The background worker: create queued appeals as they come, sweep deadlines and deliver the outbox
every SWEEP_INTERVAL_SECONDS.

One loop, no broker: every APPEAL_INTAKE_POLL_SECONDS it drains the appeal intake (asynchronous
submits, `appeals.intake.drain`: a cheap probe of a partial index when nothing waits); every
SWEEP_INTERVAL_SECONDS it runs `gongzhi sweep` and `gongzhi deliver_notifications` in-process;
repeat; SIGTERM or SIGINT ends it cleanly after the current round (systemd's stop). Both jobs are
idempotent and safe to run twice at once, so a second worker (or a cron run of `gongzhi sweep`)
does no harm. A round that raises is logged and the loop goes on; the database being away for a
while only delays work.
"""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from gongzhi.appeals.intake import drain, prune
from gongzhi.appeals.sweep import sweep
from gongzhi.core.pacing import Pacer
from gongzhi.notifications.services import deliver_outbox

log = logging.getLogger("gongzhi.worker")


PRUNE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    _next_prune = 0.0  # the first round prunes
    _stop: threading.Event | None = None  # set by SIGTERM/SIGINT while handle() runs
    help = ("Create queued appeals every APPEAL_INTAKE_POLL_SECONDS, and run the deadline sweep and deliver "
            "notification emails every SWEEP_INTERVAL_SECONDS, until SIGTERM/SIGINT (then exit 0 after the "
            "current round).")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between rounds (default: settings.SWEEP_INTERVAL_SECONDS).")
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")
        parser.add_argument("--rounds", type=int, default=0, help="Stop after this many rounds (0: no limit).")
        parser.add_argument("--intake-only", action="store_true",
                            help="Only create queued appeals (a second worker beside a full one).")

    def handle(self, *args, interval=None, once=False, rounds=0, intake_only=False, **options):
        interval = settings.SWEEP_INTERVAL_SECONDS if interval is None else interval
        poll = min(settings.APPEAL_INTAKE_POLL_SECONDS, interval) if interval > 0 else settings.APPEAL_INTAKE_POLL_SECONDS
        stop = self._stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
        self.stdout.write(f"worker: every {interval:g}s; stop with SIGTERM")
        done = 0
        next_round = time.monotonic()
        try:
            while not stop.is_set():
                self.intake()
                if intake_only:
                    done += 1
                elif time.monotonic() >= next_round:
                    self.round()
                    done += 1
                    next_round = time.monotonic() + interval
                if once or (rounds and done >= rounds):
                    break
                stop.wait(poll)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"worker: stopped after {done} round(s)")

    def intake(self) -> None:
        try:
            done, failed = drain()
            if done or failed:
                self.stdout.write(f"intake: {done} appeal(s) created, {failed} refused")
        except Exception:
            log.exception("worker: creating queued appeals failed")
            _recycle_connections()

    def round(self) -> None:
        started = time.monotonic()
        _recycle_connections()
        try:
            # Paced (SWEEP_DUTY): a heavy sweep spreads over several rounds' time instead of stalling
            # the web tier; SIGTERM ends it between two rows.
            report = sweep(pace=Pacer(settings.SWEEP_DUTY, stop=self._stop))
            if report.stopped:
                self.stdout.write("sweep: stopped between two rows (the next round goes on from there)")
            counts = ", ".join(f"{k} {v}" for k, v in report.as_dict().items() if v)
            if counts:
                self.stdout.write(f"sweep: {counts}")
        except Exception:
            log.exception("worker: sweep failed")
        if time.monotonic() >= self._next_prune:  # hourly: it reads the whole (small) intake table
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            try:
                pruned = prune()
                if pruned:
                    self.stdout.write(f"intake: {pruned} processed submit(s) older than the keep period forgotten")
            except Exception:
                log.exception("worker: pruning processed submits failed")
        try:
            sent = deliver_outbox()
            if any(sent.as_dict().values()):
                self.stdout.write("notifications: " + ", ".join(f"{k} {v}" for k, v in sent.as_dict().items()))
        except Exception:
            log.exception("worker: delivering notifications failed")
        finally:
            _recycle_connections()
        log.info("worker: round took %.2fs", time.monotonic() - started)


def _recycle_connections() -> None:
    """Drop connections past CONN_MAX_AGE or broken (a database restart), as a request would;
    never one inside a transaction (only a test runs the worker inside one)."""
    if not connection.in_atomic_block:
        close_old_connections()
