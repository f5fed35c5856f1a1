"""The JSON API: the same rules and permissions as the pages, refusals in the error shape."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.volunteering.models import Activity, DualReport, SignUp

from .conftest import activity, bearer, later

pytestmark = pytest.mark.django_db
API = "/api/v1/volunteering"


def post(u, url, data=None):
    return Client().post(url, data or {}, content_type="application/json", **bearer(u))


def get(u, url):
    return Client().get(url, **bearer(u))


def test_report_flow_over_the_api(world):
    r = post(world.m1, f"{API}/reports", {"kind": "member", "offer": "助学"})
    assert r.status_code == 201, r.json()
    rid = r.json()["id"]
    assert post(world.m1, f"{API}/reports", {"kind": "member"}).json()["error"]["code"] == "already_reported"
    assert post(world.cw_x, f"{API}/reports/{rid}/approve", {"version": 1}).status_code == 403
    r = post(world.cw, f"{API}/reports/{rid}/reject", {"version": 1, "reason": ""})
    assert r.status_code == 400 and r.json()["error"]["message"] == "请填写退回理由。"
    r = post(world.cw, f"{API}/reports/{rid}/approve", {"version": 1})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert [x["id"] for x in get(world.cw, f"{API}/reports?state=approved").json()["items"]] == [rid]
    assert get(world.cw_x, f"{API}/reports").json()["items"] == []
    assert Client().get(f"{API}/reports").status_code == 401
    r = get(world.cw, f"{API}/records/{world.unit.pk}")
    assert r.status_code == 200 and r.json()["items"][0]["name"] == "张党员"
    assert get(world.m2, f"{API}/records/{world.unit.pk}").status_code == 403
    r = get(world.cw, f"{API}/records/{world.unit.pk}?format=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")


def test_teams_over_the_api(world):
    r = post(world.cw, f"{API}/teams", {"community_id": world.beining.pk, "name": "追光", "speciality": "助学",
                                         "leader_id": world.m1.person.pk})
    assert r.status_code == 201
    tid = r.json()["id"]
    assert post(world.m2, f"{API}/teams", {"community_id": world.beining.pk, "name": "x"}).status_code == 403
    assert post(world.m2, f"{API}/teams/{tid}/join").json()["members"] == [world.m1.person.pk, world.m2.person.pk]
    assert post(world.m2, f"{API}/teams/{tid}/join").status_code == 409
    r = Client().patch(f"{API}/teams/{tid}", {"version": 1, "speciality": "课业辅导"},
                       content_type="application/json", **bearer(world.m1))
    assert r.status_code == 200 and r.json()["speciality"] == "课业辅导"
    r = Client().patch(f"{API}/teams/{tid}", {"version": 1, "speciality": "y"}, content_type="application/json",
                       **bearer(world.cw))
    assert r.status_code == 409


def test_activity_flow_and_bad_input_over_the_api(world):
    starts = timezone.localtime() + dt.timedelta(minutes=5)
    body = {"title": "义务理发", "community_id": world.beining.pk, "venue": "活动室",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
            "capacity": 1, "hours": -2, "publish": True}
    r = post(world.cw, f"{API}/activities", body)
    assert r.status_code == 400 and "计时" in r.json()["error"]["message"]
    assert post(world.cw, f"{API}/activities", {**body, "hours": 2, "capacity": 0}).status_code == 400
    assert post(world.m1, f"{API}/activities", {**body, "hours": 2}).status_code == 403
    assert Activity.objects.count() == 0
    r = post(world.cw, f"{API}/activities", {**body, "hours": 2})
    assert r.status_code == 201, r.json()
    a = r.json()
    assert a["hours"] == "2.0" and len(a["code"]) == 6
    assert post(world.m1, f"{API}/activities/{a['id']}/signup").json()["state"] == "signed"
    s2 = post(world.m2, f"{API}/activities/{a['id']}/signup").json()
    assert (s2["state"], s2["wait_position"]) == ("waiting", 1)
    assert "code" not in get(world.m1, f"{API}/activities/{a['id']}").json()
    r = post(world.m2, f"{API}/checkin", {"code": a["code"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "on_wait_list"
    r = post(world.m1, f"{API}/checkout", {"code": a["code"]})
    assert r.status_code == 400 and r.json()["error"]["message"] == "请先签到，再签退。"
    assert post(world.m1, f"{API}/checkin", {"code": "WRONG1"}).json()["error"]["code"] == "wrong_code"
    assert post(world.m1, f"{API}/checkin", {"code": a["code"]}).status_code == 200
    later(Activity.objects.get(pk=a["id"]), dt.timedelta(hours=2, minutes=10))  # there from before the start until after the end
    r = post(world.m1, f"{API}/checkout", {"code": a["code"]})
    assert r.status_code == 200 and r.json()["hours_credited"] == "2.0"
    assert r.json()["credit_note"] == "签退成功：义务理发，2.0 时间币已存入您的时间银行。"
    assert post(world.m1, f"{API}/checkout", {"code": a["code"]}).status_code == 409
    att = get(world.cw, f"{API}/activities/{a['id']}/attendance").json()["items"]
    assert [x["name"] for x in att] == ["张党员", "王党员"]
    assert get(world.m2, f"{API}/activities/{a['id']}/attendance").status_code == 403
    r = post(world.cw, f"{API}/activities/{a['id']}/finish", {"version": 1, "summary": "", "beneficiaries": 5})
    assert r.status_code == 400
    v = get(world.cw, f"{API}/activities/{a['id']}").json()["version"]
    r = post(world.cw, f"{API}/activities/{a['id']}/finish", {"version": v, "summary": "理发 30 人",
                                                              "beneficiaries": 30})
    assert r.status_code == 200 and r.json()["state"] == "finished"
    items = get(world.m1, f"{API}/activities?mine=true").json()["items"]
    assert [x["id"] for x in items] == [a["id"]]


def test_signup_cancel_over_the_api_promotes(world):
    a = activity(world, capacity=1, start_in=dt.timedelta(hours=5))
    s1 = post(world.m1, f"{API}/activities/{a.pk}/signup").json()
    s2 = post(world.m2, f"{API}/activities/{a.pk}/signup").json()
    assert post(world.m3, f"{API}/signups/{s1['id']}/cancel").status_code == 403
    assert post(world.m1, f"{API}/signups/{s1['id']}/cancel").json()["state"] == "cancelled"
    assert SignUp.objects.get(pk=s2["id"]).state == "signed"
    assert DualReport.objects.count() == 0


def test_activity_patch_and_draft_visibility_over_the_api(world):
    a = activity(world, publish=False, start_in=dt.timedelta(hours=4))
    assert get(world.m1, f"{API}/activities/{a.pk}").status_code == 404
    r = Client().patch(f"{API}/activities/{a.pk}", {"version": 1, "hours": "30"}, content_type="application/json",
                       **bearer(world.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_hours"
    r = Client().patch(f"{API}/activities/{a.pk}", {"version": 1, "venue": "新地点"}, content_type="application/json",
                       **bearer(world.m1))
    assert r.status_code == 403
    r = Client().patch(f"{API}/activities/{a.pk}", {"version": 1, "venue": "新地点", "hours": 1.5},
                       content_type="application/json", **bearer(world.cw))
    assert r.status_code == 200 and (r.json()["venue"], r.json()["hours"]) == ("新地点", "1.5")
    r = post(world.cw, f"{API}/activities/{a.pk}/publish", {"version": 2})
    assert r.status_code == 200 and r.json()["state"] == "published"
    assert get(world.m1, f"{API}/activities/{a.pk}").status_code == 200
    old = r.json()["code"]
    assert post(world.cw, f"{API}/activities/{a.pk}/code").json()["code"] != old
    r = post(world.cw, f"{API}/activities/{a.pk}/cancel", {"version": 4, "reason": ""})
    assert r.status_code == 400
    r = post(world.cw, f"{API}/activities/{a.pk}/cancel", {"version": 4, "reason": "台风"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"


def test_organiser_marks_attendance_over_the_api(world):
    a = activity(world, start_in=dt.timedelta(minutes=5))
    s = post(world.m1, f"{API}/activities/{a.pk}/signup").json()
    assert post(world.m2, f"{API}/signups/{s['id']}/checkin").status_code == 403
    assert post(world.cw, f"{API}/signups/{s['id']}/sideways").status_code == 404
    assert post(world.cw, f"{API}/signups/{s['id']}/checkin").json()["checked_in_at"]
    later(a, dt.timedelta(hours=2, minutes=10))
    assert post(world.cw, f"{API}/signups/{s['id']}/checkout").json()["hours_credited"] == "2.0"
