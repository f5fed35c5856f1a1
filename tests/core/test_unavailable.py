"""A lost database answers 503 with Retry-After, never a 500, and the next request recovers by itself:
JSON in the API's error shape for the API and Open311, a page for people (one that needs no database)."""

import contextlib
import wsgiref.util

import pytest
from django.conf import settings
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db(transaction=True)

API, OPEN311, PAGE = "/api/v1/appeals", "/open311/v2/services.json", "/map/"


@contextlib.contextmanager
def database_gone():
    """Every query fails as psycopg fails when the server has gone away (PostgreSQL restarting)."""
    import psycopg

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly") from psycopg.OperationalError(
            "server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def resident(tree):
    from gongzhi.accounts.models import ApiToken
    from tests.factories import user

    u = user("qian", ("resident", tree["beining"]))
    return u, {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(u)[1]}"}


def test_the_api_answers_503_in_its_error_shape_and_recovers(client, resident):
    _u, headers = resident
    with database_gone():
        r = client.get(API, **headers)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r.json() == {"error": {"code": "unavailable", "message": "系统暂时无法访问数据库，请稍后重试。"}}
    assert client.get(API, **headers).status_code == 200


def test_open311_answers_503_and_recovers(client, tree):
    with database_gone():
        r = client.get(OPEN311)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r.json() == [{"code": 503, "description": "系统暂时无法访问数据库，请稍后重试。"}]  # GeoReport's errors
    with database_gone():
        r = client.get(OPEN311.replace(".json", ".xml"))
    assert r.status_code == 503 and r["Content-Type"].startswith("text/xml")
    assert "<code>503</code>" in r.content.decode()
    assert client.get(OPEN311).status_code == 200


def test_a_page_answers_503_with_a_page_and_recovers(client, resident):
    u, _headers = resident
    client.force_login(u)
    with database_gone():
        r = client.get(PAGE)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r["Content-Type"].startswith("text/html")
    assert "系统暂时不可用" in r.content.decode() and "请稍后重试" in r.content.decode()
    assert client.get(PAGE).status_code == 200


def test_a_database_lost_in_a_middleware_answers_503_too(client, resident, monkeypatch):
    """Outside a view (here the session saved on the way out) Django's handler500 takes it."""
    import psycopg
    from django.contrib.sessions.middleware import SessionMiddleware

    def gone(self, request, response):
        raise OperationalError("connection failed") from psycopg.OperationalError("connection failed")

    u, _headers = resident
    client.force_login(u)
    client.raise_request_exception = False
    monkeypatch.setattr(SessionMiddleware, "process_response", gone)
    r = client.get(PAGE)
    assert (r.status_code, r["Retry-After"]) == (503, "5")
    assert "系统暂时不可用" in r.content.decode()
    monkeypatch.undo()
    assert client.get(PAGE).status_code == 200


def test_a_query_error_is_still_a_server_error(client, resident):
    """Only a lost database is 503: a bug (here, a missing table) stays a 500 someone must fix."""
    _u, headers = resident

    def broken(execute, sql, params, many, context):
        raise OperationalError("no such table: x")

    client.raise_request_exception = False
    with connection.execute_wrapper(broken):
        assert client.get(API, **headers).status_code == 500


# ---- the real thing: PostgreSQL drops every connection between two requests ----

def _wsgi_get(path, **headers):
    """A request through the WSGI application gunicorn runs (request signals, connection reuse
    and health checks included; the test client turns those off)."""
    from gongzhi.wsgi import application

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "testserver", **headers}
    wsgiref.util.setup_testing_defaults(environ)
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(response_headers)

    body = application(environ, start_response)
    try:
        b"".join(body)
    finally:
        body.close()  # request_finished: Django closes a connection that failed
    return seen["status"], seen["headers"]


def _terminate_every_other_backend():
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"],
                         dbname=s["NAME"], autocommit=True) as admin:
        return admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]


# Only a database server drops its clients' connections (a restart, a failover): this test exists on the
# PostgreSQL run and is not collected on SQLite, whose connection is a file handle in the process.
_ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


if _ON_POSTGRESQL:
    @pytest.mark.parametrize("health_checks", [True, False])
    def test_after_postgresql_drops_its_connections_the_next_requests_recover(resident, monkeypatch, health_checks):
        from django.db import connections

        _u, headers = resident
        auth = {"HTTP_AUTHORIZATION": headers["HTTP_AUTHORIZATION"]}
        monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 60)
        monkeypatch.setitem(connections["default"].settings_dict, "CONN_HEALTH_CHECKS", health_checks)
        connection.close()  # the next connection is made with these settings, as a server's would be
        assert _wsgi_get(API, **auth)[0] == 200
        kept = connection.connection
        assert kept is not None and not kept.closed  # kept for the next request (CONN_MAX_AGE)
        assert _terminate_every_other_backend() >= 1
        status, response_headers = _wsgi_get(API, **auth)
        if health_checks:
            assert status == 200  # the dead connection was noticed before use and replaced
        else:
            assert (status, response_headers.get("Retry-After")) == (503, "5")  # never a 500
            assert _wsgi_get(API, **auth)[0] == 200  # and the one after recovers by itself
