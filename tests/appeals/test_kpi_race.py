"""Concurrent transitions add to the same rollup rows: no count is ever lost, even when the rows do
not exist yet and every transaction tries to insert them at once.

Real transactions, one database connection per thread (as tests/appeals/test_race.py): on SQLite
the writers queue; on PostgreSQL the upserts race on the unique (node, day) index.
"""

import threading

import pytest
from django.db import connections

from gongzhi.appeals import services
from gongzhi.appeals.models import AppealRollup
from tests.appeals.conftest import submit
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)

N = 6


def _run_all(fns):
    barrier, errors = threading.Barrier(len(fns)), []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except Exception as exc:  # shown by the assertion
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    join_all(threads, 120)
    assert not errors, errors


def test_concurrent_submissions_on_a_fresh_day_count_every_one(city):
    _run_all([lambda u=u: submit(u) for u in (city.jumin, city.linju) * (N // 2)])
    rows = AppealRollup.objects.all()
    assert rows.count() == 14  # three grids, four places: a day row and a month row each, never two
    assert set(rows.values_list("submitted", flat=True)) == {N}


def test_concurrent_accepts_of_different_appeals_lose_no_count(city):
    appeals = [submit(city.jumin) for _ in range(N)]
    AppealRollup.objects.all().delete()  # every accept now races to insert the same rows
    workers = (city.gw1, city.gw2)
    _run_all([lambda a=a, i=i: services.appeal_accept(actor=workers[i % 2], appeal=a)
              for i, a in enumerate(appeals)])
    rows = AppealRollup.objects.all()
    assert rows.count() == 14
    assert set(rows.values_list("accepted", flat=True)) == {N}
    assert set(rows.values_list("accepted_on_time", flat=True)) == {N}
