"""Two concurrent edits of one record, each carrying the version it read: exactly one wins, the other
gets the stale-version 409 and changes nothing.

Real transactions, one connection per thread; the SQLite test database is a file, so writers queue
at BEGIN IMMEDIATE (on PostgreSQL the loser waits on the row's FOR UPDATE lock) and then find the
version moved on. The first test pins the interleaving; the others release both at once.
"""

import threading
import time

import pytest
from django.db import connections

from gongzhi.core import audit
from gongzhi.core.errors import GongzhiError
from gongzhi.org import services
from gongzhi.org.models import Agreement, Person
from tests.org.edit_helpers import entries, unit_agreement
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _run(fn, results, key):
    try:
        fn()
        results[key] = "ok"
    except GongzhiError as exc:
        results[key] = exc.code
    except Exception as exc:  # anything else is a failure the assertions should show
        results[key] = repr(exc)
    finally:
        connections.close_all()  # this thread's connection


def test_a_second_edit_while_the_first_holds_its_transaction_gets_409(reg, monkeypatch):
    first_inside, real_record = threading.Event(), audit.record

    def record_slowly(actor, action, *args, **kwargs):
        # The first edit has written its row; hold its transaction open while the second one starts.
        if action == "person.update" and not first_inside.is_set():
            first_inside.set()
            time.sleep(0.5)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    results = {}
    a = threading.Thread(target=_run, args=(lambda: services.person_update(
        actor=reg.admin, person=reg.zhang, version=1, name="张三丰"), results, "first"))
    b = threading.Thread(target=_run, args=(lambda: services.person_update(
        actor=reg.worker, person=reg.zhang, version=1, phone="13900000002"), results, "second"))
    a.start()
    assert first_inside.wait(10)
    b.start()
    join_all([a, b], 30)
    assert results == {"first": "ok", "second": "stale"}
    p = Person.objects.get(pk=reg.zhang.pk)
    assert (p.name, p.phone_masked, p.version) == ("张三丰", "138****5678", 2)
    assert len(entries("person.update")) == 1


@pytest.mark.parametrize("round_", range(3))
def test_two_edits_of_one_person_released_together_leave_exactly_one_winner(reg, round_):
    barrier = threading.Barrier(2)
    results = {}
    edits = {"name": {"name": "张三丰"}, "phone": {"phone": "13900000003"}}

    def run(key):
        barrier.wait()
        _run(lambda: services.person_update(actor=reg.admin, person=reg.zhang, version=1, **edits[key]),
             results, key)

    threads = [threading.Thread(target=run, args=(k,)) for k in edits]
    for t in threads:
        t.start()
    join_all(threads, 30)
    assert sorted(results.values()) == ["ok", "stale"], results
    winner = next(k for k, v in results.items() if v == "ok")
    p = Person.objects.get(pk=reg.zhang.pk)
    assert p.version == 2
    assert (p.name, p.phone_masked) == (("张三丰", "138****5678") if winner == "name" else ("张三", "139****0003"))
    assert [list(e.after) for e in entries("person.update")] == [[winner]]


def test_two_renewals_of_one_agreement_leave_exactly_one_new_agreement(reg):
    old = unit_agreement(reg)
    barrier = threading.Barrier(2)
    results = {}

    def run(number):
        barrier.wait()
        _run(lambda: services.agreement_renew(actor=reg.admin, agreement=old, version=1, number=number,
                                              ends_on="2030-12-31"), results, number)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("R-1", "R-2")]
    for t in threads:
        t.start()
    join_all(threads, 30)
    assert sorted(results.values()) == ["ok", "stale"], results
    assert Agreement.objects.filter(membership=old.membership).count() == 2
