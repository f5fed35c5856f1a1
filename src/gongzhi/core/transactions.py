"""One write, one transaction: the mechanism every service layer shares."""

from __future__ import annotations

import logging
import random
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from .errors import Conflict

log = logging.getLogger(__name__)

# SQLSTATEs after which PostgreSQL has rolled the whole transaction back and running it again from
# the start is the documented remedy: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def sqlstate(exc) -> str | None:
    """The SQLSTATE of a database error as Django raised it (psycopg's error is its cause)."""
    for e in (exc, exc.__cause__, exc.__context__):
        code = getattr(e, "sqlstate", None)
        if code:
            return code
    return None


def is_retryable(exc) -> bool:
    """A deadlock or serialisation failure: the database rolled back, the same work may succeed now."""
    return isinstance(exc, OperationalError) and sqlstate(exc) in RETRYABLE_SQLSTATES


def is_unavailable(exc) -> bool:
    """The database could not be reached or dropped the connection (restart, failover, network)
    or gave up on a lock: a temporary state the client should retry, never a 500.

    PostgreSQL: no SQLSTATE (the connection failed before any answer), class 08 (connection
    exception), 57P01-57P03 (shut down by the administrator, crashed, starting up), 53 (out of
    resources) and the retryable ones above once their retries ran out. SQLite: "database is
    locked". Anything else (a missing table, a bad query) stays an error.
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if "database is locked" in str(exc):
        return True
    cause = exc.__cause__
    if cause is None or type(cause).__module__.split(".")[0] != "psycopg":
        return False
    code = sqlstate(exc)
    return (code is None or code[:2] in ("08", "53") or code in ("57P01", "57P02", "57P03")
            or code in RETRYABLE_SQLSTATES)


def serialised(fn, busy_message):
    """Run `fn` in a transaction (a savepoint inside a caller's). A transaction that dies of a
    deadlock or a serialisation failure is run again from the start, a few times with a short
    jittered pause; a writer that still cannot get through gets a 409 saying `busy_message`, not a
    500.

    Retries. PostgreSQL rolls the whole transaction back on 40P01/40001; the remedy is to run it
    again, which is only sound for the outermost block: `fn` is re-run from its first statement, so
    it must have no effects outside the database before it returns (on_commit callbacks of a
    rolled-back attempt are dropped by Django, outbox rows roll back with it). Inside a caller's
    transaction the error is the caller's: it is raised as it is and the caller's own `serialised`
    retries the whole. Settings: DB_RETRY_ATTEMPTS (default 3 runs in all), DB_RETRY_BACKOFF_S
    (default 0.05 s, doubled each time, with jitter).

    SQLite queues writers with the busy timeout (IMMEDIATE transactions, timeout 20 s); only when
    that wait runs out does it say "locked", and then the loser reads a clear message like any other
    loser of a race (no retry: it has already waited 20 s).
    """
    outermost = not connection.in_atomic_block
    attempts = max(1, int(getattr(settings, "DB_RETRY_ATTEMPTS", 3))) if outermost else 1
    backoff = float(getattr(settings, "DB_RETRY_BACKOFF_S", 0.05))
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return fn()
        except OperationalError as exc:
            if not outermost:
                raise
            if is_retryable(exc):
                if attempt < attempts:
                    log.warning("transaction retried after %s (attempt %d of %d)", sqlstate(exc), attempt, attempts)
                    time.sleep(backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))
                    continue
                log.warning("transaction gave up after %d attempts: %s", attempts, sqlstate(exc))
                raise Conflict("busy", str(busy_message)) from None
            if connection.vendor == "sqlite" and "locked" in str(exc):
                raise Conflict("busy", str(busy_message)) from None
            raise
    raise AssertionError("unreachable")  # pragma: no cover
