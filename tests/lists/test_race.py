"""Fifty party members claim one need at the same moment: exactly one project, 49 clear 409s.

Real transactions, one database connection per thread (SQLite queues writers at BEGIN; on PostgreSQL
the losers' UPDATE … WHERE state='open' waits on the row lock and then matches no row)."""

import threading

import pytest
from django.db import connections
from django.test import Client

from gongzhi.lists.models import Need, Project, ProjectNeed
from gongzhi.org.models import Person
from tests.factories import user
from tests.lists.conftest import bearer, wish
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)

N = 50


def _claim(headers, number, results, i, barrier):
    try:
        barrier.wait()
        r = Client().post(f"/api/v1/needs/{number}/claim", {}, content_type="application/json", **headers)
        results[i] = (r.status_code, r.json())
    except Exception as exc:  # shown by the assertions
        results[i] = (repr(exc), None)
    finally:
        connections.close_all()


def test_fifty_concurrent_claims_leave_exactly_one_project(city):
    need = wish(city)
    headers = []
    for i in range(N):
        u = user(f"m{i}", ("party_member", city.bn))
        Person.objects.create(name=f"党员{i}", registered_community=city.bn, user=u)
        headers.append(bearer(u))
    barrier, results = threading.Barrier(N), {}
    threads = [threading.Thread(target=_claim, args=(headers[i], need.number, results, i, barrier))
               for i in range(N)]
    for t in threads:
        t.start()
    join_all(threads, 120)
    statuses = sorted(r[0] for r in results.values())
    assert statuses == [200] + [409] * (N - 1), results
    messages = {body["error"]["message"] for status, body in results.values() if status == 409}
    assert messages <= {"该需求已被认领", "系统正忙，有人正在处理同一事项，请稍后重试。"}, messages
    assert Project.objects.count() == 1
    assert ProjectNeed.objects.filter(need=need, live=True).count() == 1
    assert Need.objects.get(pk=need.pk).state == "claimed"
