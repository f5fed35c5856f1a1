"""Races: concurrent sign-ups for the last places never exceed capacity; concurrent check-outs credit once.

Real transactions, one connection per thread (the activity row is locked with SELECT … FOR UPDATE
on PostgreSQL; on SQLite the IMMEDIATE transaction queues writers at BEGIN).
"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from gongzhi.timebank import services as tb
from gongzhi.timebank.models import TimeTransaction
from gongzhi.volunteering import services
from gongzhi.volunteering.models import DualReport, SignUp, SignUpState
from tests.race import assert_reported, join_all

from .conftest import activity, later, member

pytestmark = pytest.mark.django_db(transaction=True)


def _run_all(fns):
    barrier, results = threading.Barrier(len(fns)), {}

    def go(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # inspected below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert_reported(results, len(fns))
    return results


def test_concurrent_signups_for_the_last_places_never_exceed_capacity(world):
    a = activity(world, capacity=2)
    services.signup_create(actor=world.m1, activity=a)
    people = [world.m2, world.m3] + [member(f"x{i}", f"志愿者{i}", world.beining, world.unit) for i in range(3)]
    results = _run_all([lambda u=u: services.signup_create(actor=u, activity=a.pk) for u in people])
    assert all(isinstance(r, SignUp) for r in results.values()), results
    states = sorted(SignUp.objects.filter(activity=a).values_list("state", flat=True))
    assert states.count(SignUpState.SIGNED) == 2 and states.count(SignUpState.WAITING) == 4


def test_concurrent_checkouts_credit_the_hours_once(world):
    a = activity(world, capacity=2, start_in=dt.timedelta(minutes=5))
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, dt.timedelta(hours=2, minutes=10))  # a whole stay: the activity's 2 hours
    results = _run_all([lambda: services.check_out(actor=world.m1, code=a.code) for _ in range(3)])
    ok = [r for r in results.values() if isinstance(r, SignUp)]
    assert len(ok) == 1, results
    assert all(getattr(r, "status", None) == 409 for r in results.values() if not isinstance(r, SignUp)), results
    assert TimeTransaction.objects.filter(source="activity", source_ref=f"{a.pk}:{world.m1.person.pk}").count() == 1
    assert tb.balance(world.m1.person) == Decimal("2")


def test_two_dual_reports_at_once_leave_one(world):
    results = _run_all([lambda: services.report_submit(actor=world.m1, kind="member") for _ in range(2)])
    assert sorted(type(r).__name__ for r in results.values()) == ["Conflict", "DualReport"], results
    assert DualReport.objects.count() == 1
