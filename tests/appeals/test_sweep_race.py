"""Two sweeps at once over the same overdue appeals and work orders: every warning, escalation and
auto-close is written exactly once, and the two reports add up to one run's work.

Real transactions, one connection per thread (as test_race.py). On SQLite the IMMEDIATE
transactions queue at BEGIN; on PostgreSQL the loser's compare-and-set waits on the winner's row
lock and then matches no row.
"""

import datetime as dt
import threading

import pytest
from django.db import connections

from gongzhi.appeals import services
from gongzhi.appeals.models import AppealEvent
from gongzhi.appeals.sweep import SweepReport, sweep
from gongzhi.core.models import AuditEntry
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import at_street, submit, whistle
from tests.race import join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _two_sweeps(now, batch=500):
    barrier, reports = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            reports.append(sweep(now=now, batch=batch))
        except Exception as exc:  # shown by the assertions
            reports.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    join_all(threads, 120)
    assert all(isinstance(r, SweepReport) for r in reports), reports
    return reports


def _sum(reports, field):
    return sum(getattr(r, field) for r in reports)


@pytest.mark.parametrize("round_", range(2))
def test_two_sweeps_at_once_write_each_warning_and_escalation_once(city, depts, round_):
    grid_appeals = [submit(city.jumin) for _ in range(3)]
    street = at_street(city, accept=True)
    dispatched = whistle(city, at_street(city), depts.cg)
    wo = dispatched.work_orders.get()
    done = services.appeal_resolve(actor=city.gw1, appeal=services.appeal_accept(actor=city.gw1,
                                                                                 appeal=submit(city.linju)),
                                   note="已处理")
    now = max([a.step_due for a in [*grid_appeals, street]] + [wo.report_due,
                                                                done.resolved_at + dt.timedelta(days=7)])
    now += dt.timedelta(minutes=1)

    reports = _two_sweeps(now, batch=2)  # small batches: the keyset paging runs too

    assert _sum(reports, "errors") == 0
    assert _sum(reports, "escalated") == 3
    assert _sum(reports, "overdue") == 4  # three grid appeals and the street's
    assert _sum(reports, "work_order_overdue") == 1
    assert _sum(reports, "auto_closed") == 1
    for a in grid_appeals:
        assert AppealEvent.objects.filter(appeal=a, action="overdue").count() == 1
        assert AppealEvent.objects.filter(appeal=a, action="escalate").count() == 1
        a.refresh_from_db()
        assert (a.state, a.owner_level, a.version) == ("escalated", "community", 3)
        assert Notification.objects.filter(recipient=city.cw, kind="assigned", appeal_number=a.number).count() == 1
    assert AppealEvent.objects.filter(appeal=street, action="overdue").count() == 1
    assert AppealEvent.objects.filter(appeal=dispatched, action="overdue", data__work_order=wo.pk).count() == 1
    assert AppealEvent.objects.filter(appeal=done, action="auto_close").count() == 1
    assert AuditEntry.objects.filter(action="appeal.escalate").count() == 3
    assert Notification.objects.filter(recipient=city.admin, kind="overdue").count() == 1

    # And a third sweep at the same moment finds nothing left to do.
    again = sweep(now=now)
    assert (again.overdue, again.escalated, again.work_order_overdue, again.auto_closed, again.due_soon) == (
        0, 0, 0, 0, 0)


def test_two_sweeps_at_once_warn_a_deadline_near_once(city):
    appeals = [submit(city.jumin) for _ in range(4)]
    now = max(a.step_due for a in appeals) - dt.timedelta(hours=1)
    reports = _two_sweeps(now)
    assert _sum(reports, "due_soon") == 4 and _sum(reports, "errors") == 0
    for a in appeals:
        assert AppealEvent.objects.filter(appeal=a, action="due_soon").count() == 1
    assert Notification.objects.filter(kind="due_soon").count() == 4
