"""Agenda, attendance, minutes, resolutions and action items through the JSON API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.deliberation import services
from gongzhi.deliberation.models import ActionItem, Resolution

from .conftest import bearer

pytestmark = pytest.mark.django_db
BASE = "/api/v1/deliberation"


def test_the_whole_meeting_through_the_api(client, world):
    w = world
    start = timezone.localtime() - dt.timedelta(minutes=5)
    m = services.meeting_create(actor=w.cw, kind="joint", form="quarterly", title="季度联席会议", starts_at=start,
                                ends_at=start + dt.timedelta(hours=2), committee=w.committee.pk)
    cw, res = bearer(w.cw), bearer(w.resident)
    r = client.post(f"{BASE}/meetings/{m.pk}/agenda", {"title": "共建项目进展"}, content_type="application/json", **cw)
    assert r.status_code == 201 and r.json()["position"] == 1
    assert client.post(f"{BASE}/meetings/{m.pk}/agenda", {"title": "x"}, content_type="application/json",
                       **res).status_code == 403
    code = client.post(f"{BASE}/meetings/{m.pk}/code", **cw).json()["code"]
    r = client.post(f"{BASE}/sign-in", {"code": code}, content_type="application/json", **bearer(w.liaisons[0]))
    assert r.status_code == 201 and r.json()["meeting_id"] == m.pk
    again = client.post(f"{BASE}/sign-in", {"code": code}, content_type="application/json", **bearer(w.liaisons[0]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_signed_in"
    bad = client.post(f"{BASE}/sign-in", {"code": "abc"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en",
                      **res)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "code_invalid"
    r = client.post(f"{BASE}/meetings/{m.pk}/minutes", {"minutes": "各单位通报共建项目进展。"},
                    content_type="application/json", **cw)
    assert r.status_code == 200 and r.json()["state"] == "held" and r.json()["attendance_count"] == 1
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = {"text": "各成员单位月底前报送项目清单", "actions": [
        {"title": "报送项目清单", "owner": f"org:{w.units[0].pk}", "due_on": due},
        {"title": "汇总", "owner": "org:0", "due_on": due}]}
    r = client.post(f"{BASE}/meetings/{m.pk}/resolutions", body, content_type="application/json", **cw)
    assert r.status_code == 400 and r.json()["error"]["code"] == "owner_invalid"
    assert not Resolution.objects.exists() and not ActionItem.objects.exists()
    body["actions"].pop()
    r = client.post(f"{BASE}/meetings/{m.pk}/resolutions", body, content_type="application/json", **cw)
    assert r.status_code == 201
    aid = r.json()["actions"][0]["id"]
    mine = client.get(f"{BASE}/actions", **bearer(w.liaisons[0])).json()["items"]
    assert [a["id"] for a in mine] == [aid]
    assert client.get(f"{BASE}/actions", **res).json()["items"] == []
    assert client.post(f"{BASE}/actions/{aid}/done", {}, content_type="application/json", **res).status_code == 403
    r = client.post(f"{BASE}/actions/{aid}/done", {"note": "已报送"}, content_type="application/json",
                    **bearer(w.liaisons[0]))
    assert r.status_code == 200 and r.json()["state"] == "done"
    full = client.get(f"{BASE}/meetings/{m.pk}/proceedings", **cw).json()
    assert full["attendance"][0]["way"] == "code" and full["resolutions"][0]["actions"][0]["state"] == "done"
    public = client.get(f"{BASE}/meetings/{m.pk}/proceedings", **res).json()
    assert "attendance" not in public and public["attendance_count"] == 1  # names for the recorder's side only
