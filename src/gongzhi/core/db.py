"""Statements PostgreSQL plans once per connection, for the few that run on (nearly) every request."""

from __future__ import annotations

import contextlib
import logging
import time

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper

log = logging.getLogger("django.db.backends")


@contextlib.contextmanager
def prepared_cursor():
    """A cursor (Django's wrapper: errors translated, queries logged and counted as usual) whose
    statements PostgreSQL parses and plans once per connection and then only executes.

    Why. Django binds parameters on the client (psycopg's ClientCursor), so PostgreSQL parses and
    plans every statement afresh. For the API's token check, a two-table join on unique keys, that
    planning is most of its cost. Only for statements whose one generic plan is always right
    (lookups by a unique key, single-row INSERTs): a prepared statement keeps that plan whatever the
    parameters. On other databases, a plain cursor.

    Public APIs only: psycopg's server-side binding cursor (`psycopg.Cursor`) with
    `execute(..., prepare=True)` and the connection's `prepare_threshold`; Django's CursorWrapper
    for error translation, and the query log written here (Django reads the statement it logs from
    a private attribute psycopg fills only on its unprepared path). The connection is health-checked
    first, as Django's own cursors are (CONN_HEALTH_CHECKS).

    Behind a transaction-mode pooler (PgBouncer) prepared statements need its
    `max_prepared_statements` (1.21 or later); with a session pooler or none they just work.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's wrapper once: every `connection.x` is a lookup
    if db.vendor != "postgresql":
        with db.cursor() as cur:
            yield cur
        return
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    conn = db.connection
    if conn.prepare_threshold is None:
        # Django turns psycopg's preparing off (None), which refuses even prepare=True. A threshold
        # nothing reaches turns it back on for these cursors only: Django's own cursors bind on the
        # client and never prepare.
        conn.prepare_threshold = 2**31
    import psycopg

    raw = psycopg.Cursor(conn)
    with (_LoggedPlannedOnce if db.queries_logged else _PlannedOnce)(raw, db) as cur:
        yield cur


class _PlannedOnce(CursorWrapper):
    """Django's cursor wrapper (database errors translated to Django's), every statement prepared."""

    def execute(self, sql, params=None):
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params, prepare=True)


class _LoggedPlannedOnce(_PlannedOnce):
    """The same, noting each statement in the connection's query log (DEBUG, tests counting queries)
    with its parameters filled in as Django's own debug cursor does."""

    def execute(self, sql, params=None):
        start = time.monotonic()
        try:
            return super().execute(sql, params)
        finally:
            duration = time.monotonic() - start
            try:
                shown = self.db.ops.compose_sql(sql, params)
            except Exception:  # noqa: BLE001 - a statement that cannot be shown is still logged
                shown = sql
            self.db.queries_log.append({"sql": shown, "time": f"{duration:.3f}"})
            log.debug("(%.3f) %s; args=%s; alias=%s", duration, shown, params, self.db.alias,
                      extra={"duration": duration, "sql": shown, "params": params, "alias": self.db.alias})
