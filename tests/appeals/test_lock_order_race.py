"""The lock order around the audit chain's head (core.audit): a submit and the sweep's hotspot step
that meet on one category never deadlock. Real transactions, one connection per thread.

The interleaving the load test hit, made deterministic: the hotspot run locks the category and
pauses before its audit entry; a submit in that category runs to its commit meanwhile (on the old
code it took the head, then waited at COMMIT on the category for its foreign-key check); then the
run goes on to the head. PostgreSQL would find a deadlock and kill one of them (an HTML 500)."""

import logging
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from gongzhi.appeals import hotspots
from gongzhi.appeals.models import Appeal, Hotspot
from gongzhi.core import audit
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import IN_GRID, bearer
from tests.appeals.test_hotspots import repeats
from tests.race import join_all, start_all

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_on_a_lock() -> bool:
    """Some other backend of this database waits on a lock (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0


def test_a_submit_and_the_hotspot_run_on_one_category_never_deadlock(city, monkeypatch, caplog):
    repeats(city, 5)
    headers = bearer(city.linju)
    run_holds_category, go_on = threading.Event(), threading.Event()
    real_record = audit.record

    def record_after_pause(actor, action, *args, **kwargs):
        # The run holds the category row and has not asked for the head yet: let the submit go first.
        if action == "hotspot.detect" and not run_holds_category.is_set():
            run_holds_category.set()
            assert go_on.wait(20)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_after_pause)
    results = {}

    def run():
        try:
            results["run"] = hotspots.detect_hotspots().as_dict()
        except Exception as exc:  # shown by the assertions
            results["run"] = repr(exc)
        finally:
            connections.close_all()

    def submit():
        try:
            r = Client().post("/api/v1/appeals", {"category": "noise", "text": "烧烤噪声又来了", "lon": IN_GRID[0],
                                                  "lat": IN_GRID[1]}, content_type="application/json", **headers)
            results["submit"] = r.status_code
        except Exception as exc:
            results["submit"] = repr(exc)
        finally:
            connections.close_all()

    caplog.set_level(logging.WARNING, logger="gongzhi.core.transactions")
    sweeper = start_all([threading.Thread(target=run, name="hotspot-run")])
    assert run_holds_category.wait(20)
    submitter = start_all([threading.Thread(target=submit, name="submit")])
    # Let the submit get as far as it can: to its end, or to a lock wait behind the run.
    deadline = time.monotonic() + (10 if connection.vendor == "postgresql" else 0.5)
    while submitter[0].is_alive() and time.monotonic() < deadline:
        if connection.vendor == "postgresql" and _waiting_on_a_lock():
            break
        time.sleep(0.05)
    time.sleep(0.2)
    go_on.set()
    join_all(sweeper + submitter, 60)

    assert results == {"run": {"created": 1, "extended": 0, "linked": 5, "categories": 1}, "submit": 201}, results
    # No deadlock was even retried: the lock order held.
    assert not [r for r in caplog.records if "retried" in r.getMessage()], caplog.text
    assert Hotspot.objects.count() == 1 and Appeal.objects.count() == 6
    assert AuditEntry.objects.filter(action="hotspot.detect").count() == 1
    assert AuditEntry.objects.filter(action="appeal.submit").count() == 6
    assert audit.verify()[0]
