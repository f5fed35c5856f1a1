"""Hotspots under concurrency: two officers converting one hotspot at once (one wins, the other a
clear 409), and two detection runs at once (one hotspot, never two). Real transactions, one
connection per thread, as in test_race.py."""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from gongzhi.appeals import hotspots
from gongzhi.appeals.models import Appeal, Hotspot, Source
from gongzhi.core import audit
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import bearer
from tests.appeals.test_hotspots import repeats
from tests.factories import user
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _convert(headers, hotspot_id, results, key, barrier=None):
    try:
        if barrier is not None:
            barrier.wait()
        r = Client().post(f"/api/v1/hotspots/{hotspot_id}/convert",
                          {"version": 1, "title": f"集中整治（{key}）", "text": "街道统一处置"},
                          content_type="application/json", **headers)
        results[key] = (r.status_code, r.json())
    except Exception as exc:  # shown by the assertions
        results[key] = (repr(exc), None)
    finally:
        connections.close_all()


def _assert_one_winner(results, h):
    statuses = sorted(r[0] for r in results.values())
    assert statuses == [201, 409], results
    loser = next(body for status, body in results.values() if status == 409)
    assert loser["error"]["message"] == "该热点预警已被他人处理，请刷新后查看。"
    assert loser["error"]["state"] == "converted"
    winner = next(body for status, body in results.values() if status == 201)
    h.refresh_from_db()
    assert (h.state, h.version) == ("converted", 2)
    assert h.proactive_appeal.number == winner["appeal"]["number"] == loser["error"]["proactive_appeal"]
    assert Appeal.objects.filter(source=Source.PROACTIVE).count() == 1
    assert AuditEntry.objects.filter(action="hotspot.convert").count() == 1
    assert Appeal.objects.filter(proactive=h.proactive_appeal).count() == 5


@pytest.mark.parametrize("round_", range(2))
def test_two_officers_converting_at_once_make_one_proactive_appeal(city, round_):
    repeats(city, 5)
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    so2 = user("so2", ("street_officer", city.tree["street"]), first_name="蒙干部")
    who = {"so": bearer(city.so), "so2": bearer(so2)}
    barrier, results = threading.Barrier(2), {}
    threads = [threading.Thread(target=_convert, args=(who[k], h.pk, results, k, barrier)) for k in who]
    for t in threads:
        t.start()
    join_all(threads, 60)
    _assert_one_winner(results, h)


def test_a_second_convert_while_the_first_holds_its_transaction_gets_409(city, monkeypatch):
    repeats(city, 5)
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    so2 = user("so2", ("street_officer", city.tree["street"]), first_name="蒙干部")
    first_inside, real_record = threading.Event(), audit.record

    def record_slowly(actor, action, *args, **kwargs):
        # The first conversion has won its compare-and-set; hold its transaction while the second arrives.
        if action == "hotspot.convert" and not first_inside.is_set():
            first_inside.set()
            time.sleep(0.5)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    results = {}
    first = threading.Thread(target=_convert, args=(bearer(city.so), h.pk, results, "so"))
    second = threading.Thread(target=_convert, args=(bearer(so2), h.pk, results, "so2"))
    first.start()
    assert first_inside.wait(10)
    second.start()
    join_all([first, second], 60)
    assert (results["so"][0], results["so2"][0]) == (201, 409), results
    _assert_one_winner(results, h)


def _detect(results, key, barrier=None):
    try:
        if barrier is not None:
            barrier.wait()
        results[key] = hotspots.detect_hotspots().as_dict()
    except Exception as exc:
        results[key] = repr(exc)
    finally:
        connections.close_all()


def test_two_detection_runs_at_once_make_one_hotspot(city, monkeypatch):
    repeats(city, 6)
    first_inside, real_record = threading.Event(), audit.record

    def record_slowly(actor, action, *args, **kwargs):
        # The first run has written its hotspot; hold its transaction while the second run starts.
        if action == "hotspot.detect" and not first_inside.is_set():
            first_inside.set()
            time.sleep(0.5)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    results = {}
    first = threading.Thread(target=_detect, args=(results, "first"))
    second = threading.Thread(target=_detect, args=(results, "second"))
    first.start()
    assert first_inside.wait(10)
    second.start()
    join_all([first, second], 60)
    assert results["first"]["created"] == 1 and results["second"]["created"] == 0, results
    assert Hotspot.objects.count() == 1 and Hotspot.objects.get().appeal_count == 6
    assert Appeal.objects.filter(hotspot__isnull=False).count() == 6
    assert AuditEntry.objects.filter(action="hotspot.detect").count() == 1


def test_detection_runs_started_together_never_duplicate(city):
    repeats(city, 5)
    barrier, results = threading.Barrier(3), {}
    threads = [threading.Thread(target=_detect, args=(results, k, barrier)) for k in range(3)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert sorted(r["created"] for r in results.values()) == [0, 0, 1], results
    assert Hotspot.objects.count() == 1
