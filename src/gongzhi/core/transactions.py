"""One write, one transaction: the mechanism every service layer shares."""

from __future__ import annotations

from django.db import OperationalError, connection, transaction

from .errors import Conflict


def serialised(fn, busy_message):
    """Run `fn` in a transaction (a savepoint inside a caller's); a writer that waited out SQLite's
    lock gets a 409 saying `busy_message`, not a 500.

    SQLite queues writers with the busy timeout (IMMEDIATE transactions, timeout 20 s); PostgreSQL
    queues them on the row lock. Only when that wait runs out does SQLite say "locked", and then the
    loser should read a clear message like any other loser of a race. Inside a caller's transaction
    the error is the caller's to handle, so it is raised as it is.
    """
    try:
        with transaction.atomic():
            return fn()
    except OperationalError as exc:
        if connection.vendor != "sqlite" or "locked" not in str(exc) or connection.in_atomic_block:
            raise
        raise Conflict("busy", str(busy_message)) from None
