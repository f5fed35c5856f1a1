"""Statements planned once per connection (`core.db.prepared_cursor`): the API's token check and the
queued submit's INSERT. PostgreSQL keeps them as prepared statements; every database still logs,
counts and translates them like any other query."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.authentication import _token_lookup
from gongzhi.core.db import prepared_cursor
from tests.factories import user

pytestmark = pytest.mark.django_db


def _prepared() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {s: (g, c) for s, g, c in cur.fetchall()}


def test_the_token_check_is_planned_once_per_connection_and_still_logged(client, tree):
    from gongzhi.accounts.models import ApiToken

    _t, key = ApiToken.issue(user("qian", ("resident", tree["beining"])))
    sql = _token_lookup()[0]
    for _ in range(7):
        assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").json()["username"] == "qian"
    assert sum(1 for q in seen.captured_queries if q["sql"].startswith("SELECT u.")) == 1
    if connection.vendor == "postgresql":
        plans = [v for s, v in _prepared().items() if s.startswith("SELECT u.")]
        assert len(plans) == 1, _prepared()  # one statement for all eight requests
        generic, custom = plans[0]
        assert generic + custom == 8
    else:
        assert sql.startswith("SELECT u.")  # SQLite has no statements to keep: a plain cursor


def test_a_refused_statement_is_djangos_error_and_the_connection_goes_on(tree):
    with prepared_cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE prep_probe (k integer PRIMARY KEY)")
        cur.execute("INSERT INTO prep_probe (k) VALUES (%s)", [1])
    with pytest.raises(IntegrityError), transaction.atomic(), prepared_cursor() as cur:
        cur.execute("INSERT INTO prep_probe (k) VALUES (%s)", [1])
    with prepared_cursor() as cur:
        cur.execute("INSERT INTO prep_probe (k) VALUES (%s)", [2])
        cur.execute("SELECT count(*) FROM prep_probe")
        assert cur.fetchone()[0] == 2
