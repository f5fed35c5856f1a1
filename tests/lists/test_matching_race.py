"""Confirm races: two workers confirm pairs of the same need at once, or a member claims it meanwhile.

Real transactions, one connection per thread (as tests/appeals/test_race.py): exactly one taker wins,
the other pair is reported as a conflict and the rest of its batch is still dispatched.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from gongzhi.lists import services
from gongzhi.lists.models import Need, Project, ProjectNeed
from tests.factories import user
from tests.lists import test_matching_service as base
from tests.lists.conftest import bearer, wish
from tests.race import join_all

m = base.m  # the resources fixture
need = base.need

pytestmark = pytest.mark.django_db(transaction=True)


def _confirm(who, pairs, results, key, barrier):
    try:
        barrier.wait()
        r = Client().post("/api/v1/matching/confirm", {"pairs": pairs}, content_type="application/json", **who)
        results[key] = (r.status_code, r.json())
    except Exception as exc:  # shown by the assertions
        results[key] = (repr(exc), None)
    finally:
        connections.close_all()


def test_two_workers_confirming_one_need_leave_one_taker(m):
    c = m.city
    w = wish(c, skill="elderly")  # the generic team may take it
    fix_a = need(c, "修门锁", "repair")
    fix_b = need(c, "修水龙头", "repair")
    street = user("so", ("street_officer", c.tree["street"]))
    who = {"cw": bearer(c.cw), "so": bearer(street)}
    batches = {
        "cw": [{"need_number": w.number, "resource_id": m.generic.pk}, {"need_number": fix_a.number,
                                                                         "resource_id": m.repair.pk}],
        "so": [{"need_number": w.number, "resource_id": m.generic.pk}, {"need_number": fix_b.number,
                                                                         "resource_id": m.repair.pk}],
    }
    barrier, results = threading.Barrier(2), {}
    threads = [threading.Thread(target=_confirm, args=(who[k], batches[k], results, k, barrier)) for k in who]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert sorted(r[0] for r in results.values()) == [200, 200], results
    outcomes = sorted(body["results"][0]["status"] for _s, body in results.values())
    assert outcomes == ["conflict", "dispatched"], results
    # The other pair of each batch went through regardless.
    assert all(body["results"][1]["status"] == "dispatched" for _s, body in results.values()), results
    assert ProjectNeed.objects.filter(need=w, live=True).count() == 1
    assert Need.objects.get(pk=w.pk).state == "dispatched"
    assert Project.objects.filter(needs__in=[fix_a, fix_b]).count() == 2


def test_a_need_claimed_between_proposal_and_confirm_is_reported(m):
    c = m.city
    w = wish(c)
    body = Client().post("/api/v1/matching/proposals", {"place_id": c.bn.pk}, content_type="application/json",
                         **bearer(c.cw)).json()
    pair = body["pairs"][0]
    services.need_claim(actor=c.dangyuan2, need=Need.objects.get(pk=w.pk))
    r = Client().post("/api/v1/matching/confirm", {"pairs": [
        {"need_number": w.number, "resource_id": pair["resource"]["id"], "version": pair["need"]["version"]}]},
        content_type="application/json", **bearer(c.cw))
    out = r.json()["results"][0]
    assert (out["status"], out["http_status"], out["message"]) == ("conflict", 409, "该需求已被认领")
    assert Project.objects.get(needs=w).taker_person == c.member2


def test_two_confirms_filling_the_last_place_of_one_resource_leave_one_dispatched(m):
    c = m.city
    first, second = wish(c, title="想要一个台灯"), wish(c, title="想要一本字典")  # 张党员's goods: capacity 1
    street = user("so", ("street_officer", c.tree["street"]))
    who = {"cw": bearer(c.cw), "so": bearer(street)}
    batches = {"cw": [{"need_number": first.number, "resource_id": m.goods.pk}],
               "so": [{"need_number": second.number, "resource_id": m.goods.pk}]}
    barrier, results = threading.Barrier(2), {}
    threads = [threading.Thread(target=_confirm, args=(who[k], batches[k], results, k, barrier)) for k in who]
    for t in threads:
        t.start()
    join_all(threads, 60)
    outcomes = sorted((body["results"][0]["status"], body["results"][0]["message"]) for _s, body in results.values())
    assert outcomes == [("dispatched", None), ("rejected", "资源容量已满")], results
    assert Project.objects.filter(resource=m.goods).count() == 1
