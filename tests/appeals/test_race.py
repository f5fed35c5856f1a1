"""Two grid workers accept one appeal at the same moment: exactly one wins, the other gets a clear 409.

Real transactions, one database connection per thread; the SQLite test database is a file, so
writers queue as in production (IMMEDIATE transactions wait at BEGIN; on PostgreSQL the loser's
UPDATE … WHERE version=… waits on the row lock and then matches no row).
"""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal, AppealEvent
from gongzhi.core import audit
from tests.appeals.conftest import bearer, submit
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _accept(who, number, results, key, barrier=None):
    try:
        if barrier is not None:
            barrier.wait()
        r = Client().post(f"/api/v1/appeals/{number}/accept", {"version": 1}, content_type="application/json", **who)
        results[key] = (r.status_code, r.json())
    except Exception as exc:  # shown by the assertions
        results[key] = (repr(exc), None)
    finally:
        connections.close_all()


@pytest.mark.parametrize("round_", range(3))
def test_two_workers_accepting_at_once_leave_one_owner(city, round_):
    a = submit(city.jumin)
    who = {"gw1": bearer(city.gw1), "gw2": bearer(city.gw2)}
    barrier, results = threading.Barrier(2), {}
    threads = [threading.Thread(target=_accept, args=(who[k], a.number, results, k, barrier)) for k in who]
    for t in threads:
        t.start()
    join_all(threads, 60)
    statuses = sorted(r[0] for r in results.values())
    assert statuses == [200, 409], results
    loser = next(body for status, body in results.values() if status == 409)
    assert loser["error"]["message"] == "该诉求已被他人处理，请刷新后查看。"
    winner = next(k for k, (status, _b) in results.items() if status == 200)
    a.refresh_from_db()
    assert (a.state, a.version, a.owner.username) == ("accepted", 2, winner)
    assert AppealEvent.objects.filter(appeal=a, action="accept").count() == 1


def test_second_accept_while_the_first_holds_its_transaction_gets_409(city, monkeypatch):
    a = submit(city.jumin)
    first_inside, real_record = threading.Event(), audit.record

    def record_slowly(actor, action, *args, **kwargs):
        # The first accept has won its UPDATE; hold its transaction open while the second arrives.
        if action == "appeal.accept" and not first_inside.is_set():
            first_inside.set()
            time.sleep(0.5)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    results = {}
    first = threading.Thread(target=_accept, args=(bearer(city.gw1), a.number, results, "gw1"))
    second = threading.Thread(target=_accept, args=(bearer(city.gw2), a.number, results, "gw2"))
    first.start()
    assert first_inside.wait(10)
    second.start()
    join_all([first, second], 60)
    assert (results["gw1"][0], results["gw2"][0]) == (200, 409), results
    assert Appeal.objects.get(pk=a.pk).owner == city.gw1


def test_concurrent_retries_with_one_idempotency_key_create_one_appeal(city):
    barrier, results = threading.Barrier(4), []

    def run():
        try:
            barrier.wait()
            results.append(submit(city.jumin, idempotency_key="same-key").pk)
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert Appeal.objects.count() == 1


def test_numbers_stay_unique_under_concurrent_submits(city):
    barrier, numbers = threading.Barrier(4), []

    def run(u):
        try:
            barrier.wait()
            numbers.append(services.appeal_submit(actor=u, category="noise", text="噪声", lon=108.3225,
                                                  lat=22.8225).number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in (city.jumin, city.linju, city.jumin, city.linju)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert len(numbers) == len(set(numbers)) == 4
