"""Shared fixtures. Browser tests need Debian's Chromium: if it is missing they fail, never skip."""

import os
import time

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make are
# still synchronous, so Django's async-safety guard would only get in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GONGZHI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session", autouse=True)
def _client_login_through_axes():
    """Django's test `client.login()` calls authenticate() without a request, which the lockout
    backend (django-axes) rightly refuses. Hand it a bare request from 127.0.0.1 instead, so test
    sign-ins are counted like real ones rather than the lockout being switched off. Its records
    live in the database and go with each test's rollback or flush."""
    from django.http import HttpRequest
    from django.test.client import ClientMixin

    plain = ClientMixin.login

    def login(self, **credentials):
        if "request" not in credentials:
            request = HttpRequest()
            request.META["REMOTE_ADDR"] = "127.0.0.1"
            credentials["request"] = request
        return plain(self, **credentials)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ClientMixin, "login", login)
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Every test folder hashes passwords with the fast MD5 hasher (the production one spends seconds
    per user on purpose); a folder's own fixture of this name does the same."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def unpaced_sweeps(settings):
    """A test's sweep does milliseconds of work: run it at full speed (the pacing that spreads a city's
    heavy sweep out is tested on its own, tests/core/test_pacing.py and tests/appeals/test_sweep.py)."""
    settings.SWEEP_DUTY = 1.0


@pytest.fixture
def tree(db):
    from tests.factories import place_tree

    return place_tree()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield b
        b.close()


def _wait_without_eval(pg, expression, arg=None, timeout=None, polling=None):
    """Page.wait_for_function, polled from here: Playwright's own polls the predicate with eval
    inside the page, which our Content-Security-Policy (no 'unsafe-eval') rightly refuses, while
    page.evaluate goes through DevTools. So browser tests keep the policy the product ships."""
    from playwright.sync_api import Error, TimeoutError

    deadline = time.monotonic() + (timeout if timeout is not None else 15000) / 1000
    last = None
    while True:
        try:
            value = pg.evaluate(expression, arg)
            if value:
                return value
        except Error as exc:  # e.g. the next page is not there yet after a click: poll again
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_function: {expression!r} still false after {timeout or 15000} ms"
                               + (f" (last error: {last})" if last else ""))
        time.sleep(polling / 1000 if isinstance(polling, (int, float)) else 0.05)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    pg.wait_for_function = lambda expression, arg=None, timeout=None, polling=None: _wait_without_eval(
        pg, expression, arg, timeout, polling)
    yield pg
    ctx.close()


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_append_only_guards():
    """The database refuses TRUNCATE (PostgreSQL) and DELETE (SQLite) on the audit trail, its head and
    the access log; emptying the test database after a transactional test lifts those guards for
    the flush only, in the flush's own transaction, and puts them back."""
    import importlib

    from django.db import connection

    guards = importlib.import_module("gongzhi.core.migrations.0005_append_only_head_piiaccess_truncate")
    ops = type(connection.ops)
    flush = ops.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        vendor = self.connection.vendor
        return flush(self, [*guards.DROP.get(vendor, []), *sql_list, *guards.INSTALL.get(vendor, [])])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ops, "execute_sql_flush", execute_sql_flush)
        yield
