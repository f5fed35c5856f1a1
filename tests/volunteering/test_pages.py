"""Server-rendered pages: calendar, detail with organiser tools, check-in, teams, register, records."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity, DualReport, SignUp, Team

from .conftest import activity, later

pytestmark = pytest.mark.django_db


def login(u) -> Client:
    c = Client()
    c.force_login(u)
    return c


def test_calendar_detail_signup_and_checkin_pages(world):
    a = activity(world, capacity=1)
    m1 = login(world.m1)
    r = m1.get("/volunteering/activities/")
    assert r.status_code == 200 and "清理楼道小广告" in r.content.decode()
    assert login(world.m1).get("/volunteering/activities/?view=week&state=published&mine=1").status_code == 200
    r = m1.post(f"/volunteering/activities/{a.pk}/signup/", follow=True)
    assert "报名成功" in r.content.decode()
    r = login(world.m2).post(f"/volunteering/activities/{a.pk}/signup/", follow=True)
    assert "候补第 1 位" in r.content.decode()
    body = m1.get(f"/volunteering/activities/{a.pk}/").content.decode()
    assert a.code not in body and "取消报名" in body
    body = login(world.cw).get(f"/volunteering/activities/{a.pk}/").content.decode()
    assert a.code in body and "张党员" in body
    qr = login(world.cw).get(f"/volunteering/activities/{a.pk}/qr.svg")
    assert qr.status_code == 200 and qr.content.startswith(b"<svg") and b"xmlns" in qr.content
    assert m1.get(f"/volunteering/activities/{a.pk}/qr.svg").status_code == 404
    x = login(world.cw).get(f"/volunteering/activities/{a.pk}/attendance.xlsx")
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    r = m1.post("/volunteering/checkin/", {"code": "ZZZZZZ"})
    assert r.status_code == 400 and "签到码不正确" in r.content.decode()
    assert "签到成功" in m1.post("/volunteering/checkin/", {"code": a.code}).content.decode()
    # Checked out seconds later: nothing credited, and the page says why.
    assert "在场时间不足 15 分钟" in m1.post("/volunteering/checkin/", {"code": a.code}).content.decode()
    assert m1.get(f"/volunteering/checkin/?code={a.code}").status_code == 200


def test_new_activity_form_refuses_bad_input(world):
    c = login(world.cw)
    assert c.get("/volunteering/activities/new/").status_code == 200
    data = {"title": "理发", "community": world.beining.pk, "organiser_kind": "community", "venue": "活动室",
            "starts_at": "2030-05-01T09:00", "ends_at": "2030-05-01T08:00", "capacity": "5", "hours": ""}
    r = c.post("/volunteering/activities/new/", data)
    assert r.status_code == 400 and "结束时间应晚于开始时间" in r.content.decode()
    r = c.post("/volunteering/activities/new/", {**data, "ends_at": "2030-05-01T11:00", "publish": "1"})
    assert r.status_code == 302 and Activity.objects.get().hours == 2
    a = Activity.objects.get()
    r = c.post(f"/volunteering/activities/{a.pk}/finish/", {"version": a.version, "summary": "x",
                                                            "beneficiaries": "3"}, follow=True)
    assert "活动还没开始" in r.content.decode() and Activity.objects.get().state == "published"


def test_team_pages(world):
    c = login(world.cw)
    assert c.get("/volunteering/teams/new/").status_code == 200
    r = c.post("/volunteering/teams/new/", {"name": "啄木鸟", "speciality": "文明劝导", "community": world.beining.pk})
    t = Team.objects.get()
    assert r.status_code == 302
    m = login(world.m1)
    assert "啄木鸟" in m.get("/volunteering/teams/?q=文明").content.decode()
    m.post(f"/volunteering/teams/{t.pk}/join/")
    assert "张党员" in m.get(f"/volunteering/teams/{t.pk}/").content.decode()
    c.post(f"/volunteering/teams/{t.pk}/edit/", {"version": t.version, "name": "啄木鸟", "speciality": "劝导",
                                                "leader": world.m1.person.pk})
    t.refresh_from_db()
    assert t.leader == world.m1.person and t.speciality == "劝导"


def test_register_page_and_records(world):
    m = login(world.m1)
    assert "提交报到" in m.get("/volunteering/reports/").content.decode()
    m.post("/volunteering/reports/submit/", {"kind": "member", "offer": "维修"})
    r = DualReport.objects.get()
    lz = login(world.liaison)
    lz.post("/volunteering/reports/submit/", {"kind": "unit", "organization": world.unit.pk})
    cw = login(world.cw)
    body = cw.get("/volunteering/reports/").content.decode()
    assert "张党员" in body and "南宁供电局" in body and "待审核" in body
    cw.post(f"/volunteering/reports/{r.pk}/reject/", {"version": r.version, "reason": ""})
    assert DualReport.objects.get(pk=r.pk).state == "pending"
    cw.post(f"/volunteering/reports/{r.pk}/approve/", {"version": r.version})
    assert DualReport.objects.get(pk=r.pk).state == "approved"
    x = cw.get("/volunteering/reports/?kind=member&export=xlsx")
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    assert "张党员" not in login(world.cw_x).get("/volunteering/reports/").content.decode()
    a = activity(world, start_in=dt.timedelta(minutes=5))
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, dt.timedelta(hours=2, minutes=10))
    services.check_out(actor=world.m1, code=a.code)
    page = cw.get(f"/volunteering/records/{world.unit.pk}/").content.decode()
    assert "南宁供电局" in page and "清理楼道小广告" in page and "@media print" in page
    assert cw.get(f"/volunteering/records/{world.unit.pk}/?format=xlsx").status_code == 200
    assert login(world.m2).get(f"/volunteering/records/{world.unit.pk}/").status_code == 403
    assert SignUp.objects.get().hours_credited == 2
    assert cw.get("/volunteering/records/99999/").status_code == 404


def test_organiser_edits_the_activity_on_its_page(world):
    a = activity(world, start_in=dt.timedelta(hours=2))
    c = login(world.cw)
    body = c.get(f"/volunteering/activities/{a.pk}/").content.decode()
    assert "修改活动信息" in body
    r = c.post(f"/volunteering/activities/{a.pk}/edit/", {
        "version": a.version, "title": "清理楼道小广告（第二次）", "venue": a.venue, "description": "",
        "starts_at": timezone.localtime(a.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": "bad", "hours": "2"}, follow=True)
    assert "结束时间格式不正确" in r.content.decode()
    assert Activity.objects.get(pk=a.pk).title == "清理楼道小广告"


def test_organiser_marks_attendance_on_the_page(world):
    a = activity(world, start_in=dt.timedelta(minutes=5))
    s = services.signup_create(actor=world.m1, activity=a)
    c = login(world.cw)
    assert "代签" in c.get(f"/volunteering/activities/{a.pk}/").content.decode()
    c.post(f"/volunteering/activities/{a.pk}/signups/{s.pk}/check-in/")
    later(a, dt.timedelta(hours=2, minutes=10))
    r = c.post(f"/volunteering/activities/{a.pk}/signups/{s.pk}/check-out/", follow=True)
    assert "已代为签退：张党员，2.0 时间币已存入时间银行。" in r.content.decode()
    assert SignUp.objects.get(pk=s.pk).hours_credited == 2
    r = login(world.m2).post(f"/volunteering/activities/{a.pk}/signups/{s.pk}/check-in/", follow=True)
    assert "只有活动的组织者" in r.content.decode()
