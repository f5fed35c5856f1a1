"""Two departments resolve the last two work orders of one appeal at the same moment: the appeal
resolves exactly once, with one event. Two handlers of one department report the same work order
at once: one wins, the other gets a clear 409.

Real transactions, one connection per thread; the SQLite test database is a file, so writers
queue (IMMEDIATE transactions wait at BEGIN). On PostgreSQL the work-order services lock the
appeal row first (SELECT … FOR UPDATE) and then re-count, which gives the same guarantee.
"""

import threading

import pytest
from django.db import connections
from django.test import Client

from gongzhi.appeals import services
from gongzhi.appeals.models import AppealEvent, WhistleSummons
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import at_street, bearer, whistle
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _post(who, url, body, results, key, barrier):
    try:
        barrier.wait()
        r = Client().post(url, body, content_type="application/json", **who)
        results[key] = (r.status_code, r.json())
    except Exception as exc:  # shown by the assertions
        results[key] = (repr(exc), None)
    finally:
        connections.close_all()


def _run(jobs):
    barrier, results = threading.Barrier(len(jobs)), {}
    threads = [threading.Thread(target=_post, args=(*job, results, key, barrier)) for key, job in jobs.items()]
    for t in threads:
        t.start()
    join_all(threads, 60)
    return results


@pytest.mark.parametrize("round_", range(3))
def test_the_last_two_work_orders_resolved_at_once_resolve_the_appeal_once(city, depts, round_):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = {w.assignee_id: w for w in a.work_orders.all()}
    cg = services.summons_report(actor=depts.h_cg, work_order=orders[depts.cg.pk])
    sj = services.summons_report(actor=depts.h_sj, work_order=orders[depts.sj.pk])
    results = _run({
        "cg": (bearer(depts.h_cg), f"/api/v1/workorders/{cg.pk}/resolve", {"version": cg.version, "note": "已取缔"}),
        "sj": (bearer(depts.h_sj), f"/api/v1/workorders/{sj.pk}/resolve", {"version": sj.version, "note": "已查处"}),
    })
    assert sorted(r[0] for r in results.values()) == [200, 200], results
    a.refresh_from_db()
    assert (a.state, a.version) == ("resolved", 6)
    assert AppealEvent.objects.filter(appeal=a, action="orders_resolved").count() == 1
    assert AppealEvent.objects.filter(appeal=a, action="summons_resolve").count() == 2
    assert AuditEntry.objects.filter(action="appeal.orders_resolved", object_id=str(a.pk)).count() == 1
    assert set(WhistleSummons.objects.filter(appeal=a).values_list("state", flat=True)) == {"resolved"}
    # The writers were serialised: the first saw the other order still open, the second resolved the appeal.
    assert sorted(body["appeal"]["state"] for _status, body in results.values()) == ["dispatched", "resolved"]


def test_two_handlers_reporting_one_work_order_at_once_leave_one_winner(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    url = f"/api/v1/workorders/{wo.pk}/report"
    results = _run({"h_cg": (bearer(depts.h_cg), url, {"version": 1}),
                    "h_cg2": (bearer(depts.h_cg2), url, {"version": 1})})
    assert sorted(r[0] for r in results.values()) == [200, 409], results
    loser = next(body for status, body in results.values() if status == 409)
    assert loser["error"]["message"] == "该工单已被他人处理，请刷新后查看。"
    assert loser["error"]["allowed_actions"] == ["resolve"]
    winner = next(k for k, (status, _b) in results.items() if status == 200)
    wo.refresh_from_db()
    assert (wo.state, wo.version, wo.reported_by.username) == ("reported", 2, winner)
    assert AppealEvent.objects.filter(appeal=a, action="summons_report").count() == 1


def test_a_return_and_a_cancel_racing_on_the_last_orders_send_the_appeal_back_once(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = {w.assignee_id: w for w in a.work_orders.all()}
    results = _run({
        "return": (bearer(depts.h_cg), f"/api/v1/workorders/{orders[depts.cg.pk].pk}/return",
                   {"version": 1, "reason": "非本单位职责"}),
        "cancel": (bearer(city.so), f"/api/v1/workorders/{orders[depts.sj.pk].pk}/cancel",
                   {"version": 1, "reason": "改由社区调解"}),
    })
    assert sorted(r[0] for r in results.values()) == [200, 200], results
    a.refresh_from_db()
    assert (a.state, a.owner_level) == ("accepted", "street")
    assert AppealEvent.objects.filter(appeal=a, action="back_to_street").count() == 1
