"""Two concurrent assignments of one single-holder post: exactly one wins, the other gets a 409.

These run with real transactions and one database connection per thread (the SQLite test
database is a file, so writers queue as in production). The first test pins the interleaving:
the first request holds its transaction open after its check and insert while the second one
runs, so the outcome does not depend on thread timing. On PostgreSQL the second request waits
on the scope row's FOR UPDATE lock; on SQLite the IMMEDIATE transaction waits at BEGIN.
"""

import threading
import time

import pytest
from django.db import connections

from gongzhi.core import audit
from gongzhi.core.errors import Conflict
from gongzhi.org import services
from gongzhi.org.models import Post
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _assign(actor, person, org, results, key):
    try:
        services.post_assign(actor=actor, person=person, title="secretary", starts_on="2025-01-01",
                             organization=org)
        results[key] = "ok"
    except Conflict as exc:
        results[key] = exc.code
    except Exception as exc:  # anything else is a failure the assertions should show
        results[key] = repr(exc)
    finally:
        connections.close_all()  # this thread's connection


def test_second_assignment_while_the_first_holds_its_transaction_gets_409(reg, monkeypatch):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    first_inside, real_record = threading.Event(), audit.record

    def record_slowly(actor, action, *args, **kwargs):
        # The first assignment has passed its check and inserted its post; hold the transaction open.
        if action == "post.assign" and not first_inside.is_set():
            first_inside.set()
            time.sleep(0.5)
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    results = {}
    a = threading.Thread(target=_assign, args=(reg.admin, reg.zhang, reg.joint, results, "first"))
    b = threading.Thread(target=_assign, args=(reg.worker, wang, reg.joint, results, "second"))
    a.start()
    assert first_inside.wait(10)
    b.start()  # the first transaction is still open: its post is written but not committed
    join_all([a, b], 30)
    assert results == {"first": "ok", "second": "post_taken"}
    assert list(Post.objects.values_list("person__name", flat=True)) == ["张三"]


@pytest.mark.parametrize("round_", range(3))
def test_two_assignments_released_together_leave_exactly_one_holder(reg, round_):
    people = [services.person_create(actor=reg.admin, name=f"候选人{i}", registered_community=reg.tree["beining"])
              for i in range(2)]
    barrier = threading.Barrier(2)
    results = {}

    def run(person, key):
        barrier.wait()
        _assign(reg.admin, person, reg.joint, results, key)

    threads = [threading.Thread(target=run, args=(p, i)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    join_all(threads, 30)
    assert sorted(results.values()) == ["ok", "post_taken"], results
    assert Post.objects.filter(organization=reg.joint, title="secretary").count() == 1
