"""Shared fixtures. Browser tests need Debian's Chromium: if it is missing they fail, never skip."""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make are
# still synchronous, so Django's async-safety guard would only get in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GONGZHI_CHROMIUM", "/usr/bin/chromium")


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


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
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
