"""Statements PostgreSQL plans once per connection, for the few that run on (nearly) every request."""

from __future__ import annotations

import contextlib
import functools

from django.db import DEFAULT_DB_ALIAS, connections


@contextlib.contextmanager
def prepared_cursor():
    """A cursor (Django's wrapper: errors translated, queries logged and counted as usual) whose
    statements PostgreSQL parses and plans once per connection and then only executes.

    Why. Django binds parameters on the client (psycopg's ClientCursor), so PostgreSQL parses and
    plans every statement afresh. For the API's token check, a two-table join on unique keys, that
    planning is most of its cost: 160 µs of server CPU a request against 60 µs prepared. Only for
    statements whose one generic plan is always right (lookups by a unique key, single-row INSERTs):
    a prepared statement keeps that plan whatever the parameters. On other databases, a plain cursor.

    Behind a transaction-mode pooler (PgBouncer) prepared statements need its
    `max_prepared_statements` (1.21 or later); with a session pooler or none they just work.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's wrapper once: every `connection.x` is a lookup
    if db.vendor != "postgresql":
        with db.cursor() as cur:
            yield cur
        return
    db.ensure_connection()
    db.validate_thread_sharing()
    conn = db.connection
    if conn.prepare_threshold is None:
        # Django turns psycopg's preparing off (None), which refuses even prepare=True. A threshold
        # nothing reaches turns it back on for these cursors only: Django's own cursors bind on the
        # client and never prepare.
        conn.prepare_threshold = 2**31
    raw = _cursor_class()(conn)
    cur = db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)
    with cur:
        yield cur


@functools.cache
def _cursor_class():
    import psycopg

    class PlannedOnce(psycopg.Cursor):
        """Server-side binding, prepared on first use (psycopg keeps the statements per connection)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg notes the statement it sends (`_query`) on its unprepared path only; Django's
            # query log (DEBUG, tests counting queries) reads it from there.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PlannedOnce
