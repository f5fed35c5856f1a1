"""At the meeting: agenda from an appeal or need in one click, sign-in by code (once per account, also
when clicked fifty times at once), minutes, resolutions with action items, done by their owners, and
the sweep's due-soon and overdue warnings (once each)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.deliberation import services
from gongzhi.deliberation.models import ActionItem, ActionState, AgendaItem, Attendance, MeetingState
from gongzhi.notifications.models import Notification
from gongzhi.org.models import Person

pytestmark = pytest.mark.django_db


def meeting(w, *, start_in=dt.timedelta(minutes=-10), hours=2, **kw):
    start = timezone.localtime() + start_in
    params = {"kind": "deliberation", "form": "feng_si", "title": "逢四说事", "starts_at": start,
              "ends_at": start + dt.timedelta(hours=hours), "place": w.beining.pk, "location": "议事厅"}
    params.update(kw)
    return services.meeting_create(actor=w.cw, **params)


@pytest.fixture
def appeal(world):
    from gongzhi.appeals import services as appeals
    from tests.factories import grid_tree

    call_command("seed_categories", verbosity=0)
    grid_tree(world.beining, 108.32, 22.82, size=0.01)
    return appeals.appeal_submit(actor=world.resident, category="noise", title="夜间噪声扰民",
                                 text="楼下烧烤店每晚营业到凌晨两点。", lon=108.3225, lat=22.8225)


def test_agenda_typed_and_from_an_open_appeal(world, appeal):
    w = world
    m = meeting(w)
    first = services.agenda_add(actor=w.cw, meeting=m, title="小区停车难", raised_by="张阿姨")
    second = services.agenda_add(actor=w.cw, meeting=m, appeal=appeal.number)
    assert (first.position, second.position) == (1, 2)
    assert second.title == "夜间噪声扰民" and second.ref == appeal.number and second.source == "appeal"
    with pytest.raises(Conflict):
        services.agenda_add(actor=w.cw, meeting=m, appeal=appeal.number)
    with pytest.raises(NotFound):
        services.agenda_add(actor=w.cw, meeting=m, appeal="SQ-NOPE")
    with pytest.raises(ValidationFailed):
        services.agenda_add(actor=w.cw, meeting=m, title="  ")
    with pytest.raises(PermissionDenied):
        services.agenda_add(actor=w.resident, meeting=m, title="我想提个议题")
    assert AgendaItem.objects.count() == 2


def test_agenda_from_an_open_need(world):
    from gongzhi.lists import services as lists

    w = world
    need = lists.need_create(actor=w.resident, title="楼道灯坏了", due_on=timezone.localdate() + dt.timedelta(days=7),
                             place=w.beining)
    item = services.agenda_add(actor=w.cw, meeting=meeting(w), need=need.number)
    assert item.title == "楼道灯坏了" and item.source == "need"


def test_sign_in_by_code_once_and_only_in_time(world):
    w = world
    m = meeting(w)
    code = services.attendance_code(actor=w.cw, meeting=m)
    assert len(code) == 6 and code.isdigit() and services.attendance_code(actor=w.cw, meeting=m) == code
    Person.objects.create(name="王居民", registered_community=w.beining, user=w.resident)
    row = services.attendance_sign_in(actor=w.resident, code=code)
    assert row.name == "王居民" and row.way == "code"
    with pytest.raises(Conflict):
        services.attendance_sign_in(actor=w.resident, code=code)
    with pytest.raises(ValidationFailed) as exc:
        services.attendance_sign_in(actor=w.auditor, code="12345")
    assert exc.value.code == "code_invalid"
    later = timezone.now() + dt.timedelta(hours=3)
    with pytest.raises(ValidationFailed) as exc:
        services.attendance_sign_in(actor=w.auditor, code=code, now=later)
    assert exc.value.code == "code_unknown"
    services.attendance_mark(actor=w.cw, meeting=m, name="李大爷")
    with pytest.raises(PermissionDenied):
        services.attendance_mark(actor=w.resident, meeting=m, name="冒名")
    assert Attendance.objects.filter(meeting=m).count() == 2


def test_minutes_resolutions_and_action_items_to_done(world):
    w = world
    m = meeting(w)
    with pytest.raises(ValidationFailed) as exc:
        services.resolution_add(actor=w.cw, meeting=m, text="先决议")
    assert exc.value.code == "not_held"
    future = meeting(w, start_in=dt.timedelta(days=2))
    with pytest.raises(ValidationFailed):
        services.meeting_hold(actor=w.cw, meeting=future, minutes="还没开")
    held = services.meeting_hold(actor=w.cw, meeting=m, minutes="议定：增设非机动车棚。")
    assert held.state == MeetingState.HELD
    due = timezone.localdate() + dt.timedelta(days=10)
    unit = w.units[3]  # 某物业公司
    r = services.resolution_add(actor=w.cw, meeting=m, text="在 3 号楼旁增设非机动车棚", actions=[
        {"title": "选址并报价", "owner": f"org:{unit.pk}", "due_on": due.isoformat()}])
    a = r.actions.get()
    assert a.owner_name == unit.name and a.place_path == w.beining.path
    assert Notification.objects.filter(recipient=w.liaisons[3], kind="action_item").exists()
    for bad, code in (({"title": "x", "owner": "org:999999", "due_on": due.isoformat()}, "owner_invalid"),
                      ({"title": "x", "owner": f"org:{unit.pk}", "due_on": "2020-01-01"}, "due_past"),
                      ({"title": "x", "owner": f"org:{unit.pk}", "due_on": "明天"}, "due_invalid")):
        with pytest.raises(ValidationFailed) as exc:
            services.resolution_add(actor=w.cw, meeting=m, text="另一项", actions=[bad])
        assert exc.value.code == code
    assert m.resolutions.count() == 1  # all or nothing
    with pytest.raises(PermissionDenied):
        services.action_done(actor=w.liaisons[0], action=a)
    done = services.action_done(actor=w.liaisons[3], action=a, note="已选定位置，报价 1.2 万元")
    assert done.state == ActionState.DONE and done.done_at is not None
    with pytest.raises(Conflict):
        services.action_done(actor=w.cw, action=a)


def test_the_sweep_warns_once_before_and_once_after(world):
    w = world
    m = meeting(w)
    services.meeting_hold(actor=w.cw, meeting=m, minutes="纪要")
    today = timezone.localdate()
    services.resolution_add(actor=w.cw, meeting=m, text="决议", actions=[
        {"title": "两天内办", "owner": f"org:{w.units[0].pk}", "due_on": (today + dt.timedelta(days=1)).isoformat()},
        {"title": "十天内办", "owner": f"org:{w.units[1].pk}", "due_on": (today + dt.timedelta(days=10)).isoformat()}])
    assert services.actions_sweep() == {"action_due_soon": 1, "action_overdue": 0}
    assert services.actions_sweep() == {"action_due_soon": 0, "action_overdue": 0}
    later = timezone.now() + dt.timedelta(days=3)
    assert services.actions_sweep(now=later) == {"action_due_soon": 0, "action_overdue": 1}
    assert services.actions_sweep(now=later) == {"action_due_soon": 0, "action_overdue": 0}
    late = Notification.objects.filter(kind="action_item", title__contains="逾期")
    assert {n.recipient_id for n in late} == {w.liaisons[0].pk, w.cw.pk}
    assert ActionItem.objects.filter(warned_overdue_at__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_sign_ins_of_one_account_leave_one(world):
    w = world
    m = meeting(w)
    code = services.attendance_code(actor=w.cw, meeting=m)
    results, barrier = [], threading.Barrier(10)

    def go():
        try:
            barrier.wait()
            for _ in range(5):
                try:
                    services.attendance_sign_in(actor=w.resident, code=code)
                    results.append("ok")
                except Conflict as exc:
                    results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and len(results) == 50
    assert set(results) <= {"ok", "already_signed_in", "busy"}
    assert Attendance.objects.filter(meeting=m, user=w.resident).count() == 1
