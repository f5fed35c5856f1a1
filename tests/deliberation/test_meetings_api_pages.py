"""Meetings and series through the JSON API and the pages: same rules, errors in one shape."""

from __future__ import annotations

import datetime as dt

import pytest

from gongzhi.deliberation import services
from gongzhi.deliberation.models import Meeting, MeetingSeries, MeetingState
from tests.factories import PASSWORD

from .conftest import bearer

pytestmark = pytest.mark.django_db
BASE = "/api/v1/deliberation"


def _series_body(w, **kw):
    body = {"kind": "deliberation", "form": "feng_si", "title": "逢四说事", "rule": "feng_si",
            "dtstart": "2030-01-04T19:30:00+08:00", "duration_minutes": 90, "location": "议事厅",
            "place_id": w.beining.pk}
    body.update(kw)
    return body


def test_series_through_the_api(client, world):
    w = world
    r = client.post(f"{BASE}/series", _series_body(w), content_type="application/json", **bearer(w.cw))
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert r.json()["rule"] == "FREQ=MONTHLY;BYMONTHDAY=4,14,24"
    got = client.get(f"{BASE}/series/{sid}", **bearer(w.resident)).json()
    assert isinstance(got["coming"], list)
    r = client.post(f"{BASE}/series/{sid}/exceptions", {"original_start": "2030-01-14T19:30:00+08:00", "cancel": True,
                                                         "reason": "元旦调休"},
                    content_type="application/json", **bearer(w.cw))
    assert r.status_code == 200 and r.json()["exceptions"][0]["cancelled"] is True
    denied = client.post(f"{BASE}/series/{sid}/stop", **bearer(w.resident))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.post(f"{BASE}/series/{sid}/stop", **bearer(w.cw)).status_code == 200
    assert client.get(f"{BASE}/series/99999999", **bearer(w.cw)).status_code == 404
    assert client.get(f"{BASE}/series/{2**70}", **bearer(w.cw)).status_code in (404, 422)


@pytest.mark.parametrize("patch,code", [
    ({"rule": "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31"}, "rule_no_dates"),
    ({"rule": "whenever"}, "rule_invalid"),
    ({"dtstart": "tomorrow"}, "bad_time"),
    ({"duration_minutes": -5}, "duration_invalid"),
    ({"place_id": None}, "place_invalid"),
])
def test_bad_series_input_in_english_and_nothing_written(client, world, patch, code):
    r = client.post(f"{BASE}/series", _series_body(world, **patch), content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="en", **bearer(world.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == code
    msg = r.json()["error"]["message"]
    assert msg and not any("\u4e00" <= ch <= "\u9fff" for ch in msg), msg
    assert not MeetingSeries.objects.exists()


def test_meetings_through_the_api(client, world):
    w = world
    body = {"kind": "joint", "form": "ad_hoc", "title": "临时联席会议", "starts_at": "2030-03-01 09:00",
            "ends_at": "2030-03-01 10:00", "committee_id": w.committee.pk, "location": "会议室"}
    r = client.post(f"{BASE}/meetings", body, content_type="application/json", **bearer(w.cw))
    assert r.status_code == 201
    mid = r.json()["id"]
    listed = client.get(f"{BASE}/meetings?committee_id={w.committee.pk}", **bearer(w.resident)).json()["items"]
    assert [m["id"] for m in listed] == [mid]
    assert client.post(f"{BASE}/meetings", body, content_type="application/json",
                       **bearer(w.cw_x)).status_code == 403
    r = client.post(f"{BASE}/meetings/{mid}/cancel", {"reason": "改期"}, content_type="application/json",
                    **bearer(w.cw))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert client.post(f"{BASE}/meetings/{mid}/cancel", {}, content_type="application/json",
                       **bearer(w.cw)).status_code == 409
    assert client.get(f"{BASE}/meetings/424242", **bearer(w.cw)).status_code == 404


def test_pages_create_a_series_cancel_one_and_list(client, world):
    w = world
    assert client.login(username="cw", password=PASSWORD)
    now = dt.datetime.now()
    first = (now + dt.timedelta(days=3)).replace(hour=19, minute=30, second=0, microsecond=0)
    r = client.post("/deliberation/series/new/", {
        "kind": "deliberation", "form": "feng_si", "title": "逢四说事", "preset": "weekly_thu",
        "dtstart": first.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "60", "location": "议事厅",
        "place": str(w.beining.pk)}, follow=True)
    assert "议事安排已创建" in r.content.decode()
    s = MeetingSeries.objects.get()
    assert s.rule == "FREQ=WEEKLY;BYDAY=TH" and Meeting.objects.filter(series=s).count() >= 12
    body = r.content.decode()
    assert "every Thursday" not in body and "每周四" in body
    m = Meeting.objects.filter(series=s).order_by("starts_at").first()
    r = client.post(f"/deliberation/series/{s.pk}/cancel-one/",
                    {"original_start": m.original_start.isoformat(), "reason": "中秋节"}, follow=True)
    assert "这一次活动已取消" in r.content.decode()
    m.refresh_from_db()
    assert m.state == MeetingState.CANCELLED
    r = client.post("/deliberation/series/new/", {"kind": "deliberation", "form": "feng_si", "title": "x",
                                                   "preset": "custom", "rule": "FREQ=HOURLY", "dtstart": "2030-01-01T10:00",
                                                   "duration_minutes": "60", "place": str(w.beining.pk)})
    assert r.status_code == 400 and "最多每天一次" in r.content.decode()
    listing = client.get("/deliberation/meetings/").content.decode()
    assert "逢四说事" in listing
    client.logout()
    assert client.login(username="jumin", password=PASSWORD)
    page = client.get(f"/deliberation/series/{s.pk}/").content.decode()
    assert "cancel-one" not in page  # a resident reads, does not change
    assert client.post(f"/deliberation/series/{s.pk}/stop/", follow=True).status_code == 200
    assert MeetingSeries.objects.get().active is True
    assert client.get("/deliberation/meetings/new/").status_code == 200
    r = client.post("/deliberation/meetings/new/", {"kind": "joint", "form": "quarterly", "title": "x",
                                                     "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T11:00",
                                                     "committee": str(w.committee.pk)})
    assert r.status_code == 403 and not Meeting.objects.filter(series__isnull=True).exists()


def test_calendar_page_shows_the_feeds(client, world):
    w = world
    from gongzhi.org.models import Person

    Person.objects.create(name="居民", registered_community=w.beining, user=w.resident)
    assert client.login(username="jumin", password=PASSWORD)
    page = client.get("/deliberation/calendar/")
    assert f"/deliberation/calendar/community/{w.beining.pk}.ics" in page.content.decode()
    r = client.post("/deliberation/calendar/")
    assert "/deliberation/calendar/me/" in r.content.decode()
    assert services.has_feed_token(w.resident)
