"""The whistle and work orders through /api/v1/: the loop, the doors (400/403/404/409), the inbox."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.appeals.models import AppealPhoto, WhistleSummons
from tests.appeals.conftest import JPEG, NOT_AN_IMAGE, at_street, bearer, submit, whistle
from tests.photos import picture

pytestmark = pytest.mark.django_db


def _post(client, url, who, body):
    return client.post(url, body, content_type="application/json", **who)


def _whistle(client, who, appeal, *orgs, version=None, **kw):
    body = {"version": version or appeal.version, "note": kw.pop("note", ""),
            "summons": [{"organization_id": o.pk, **kw} for o in orgs]}
    return _post(client, f"/api/v1/appeals/{appeal.number}/whistle", who, body)


def _wo(client, who, wo_id, action, version, **fields):
    return _post(client, f"/api/v1/workorders/{wo_id}/{action}", who, {"version": version, **fields})


def test_the_whistle_loop_through_the_api(client, city, depts):
    a = at_street(city)
    so, cg, sj = bearer(city.so), bearer(depts.h_cg), bearer(depts.h_sj)
    assert "whistle" in client.get(f"/api/v1/appeals/{a.number}", **so).json()["allowed_actions"]
    r = _whistle(client, so, a, depts.cg, depts.sj, note="请两部门联合处置")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "dispatched" and body["timeline"][-1]["action"] == "whistle"
    assert body["timeline"][-1]["data"]["organizations"] == ["兴宁区城市管理局", "兴宁区市场监督管理局"]
    orders = {w["organization"]["name"]: w for w in body["work_orders"]}
    assert {w["state"] for w in orders.values()} == {"summoned"}
    ids = {"cg": orders["兴宁区城市管理局"]["id"], "sj": orders["兴宁区市场监督管理局"]["id"]}

    inbox = client.get("/api/v1/workorders", **cg).json()
    assert [w["id"] for w in inbox["items"]] == [ids["cg"]]
    item = inbox["items"][0]
    assert item["allowed_actions"] == ["report", "return"] and item["appeal"]["number"] == a.number
    assert item["summoned_by"] == "陈干部" and item["whistle_note"] == "请两部门联合处置"

    for who, key in ((cg, "cg"), (sj, "sj")):
        r = _wo(client, who, ids[key], "report", 1)
        assert r.status_code == 200 and r.json()["state"] == "reported", r.content
    r = _wo(client, cg, ids["cg"], "resolve", 2, note="已取缔占道烧烤摊")
    assert r.status_code == 200 and r.json()["appeal"]["state"] == "dispatched"
    r = _wo(client, sj, ids["sj"], "resolve", 2, note="已查处无证经营")
    assert r.status_code == 200 and r.json()["appeal"]["state"] == "resolved"

    detail = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.jumin)).json()
    assert detail["state"] == "resolved" and "rate" in detail["allowed_actions"]
    assert [e["action"] for e in detail["timeline"]][-6:] == [
        "whistle", "summons_report", "summons_report", "summons_resolve", "summons_resolve", "orders_resolved"]
    assert detail["timeline"][-1]["actor"] == "系统"
    assert {w["state"] for w in detail["work_orders"]} == {"resolved"}

    # The street rates each department once.
    r = _wo(client, so, ids["cg"], "rate", 3, speed=5, result=4, comment="响应快")
    assert r.status_code == 200 and r.json()["rating"]["speed"] == 5
    assert _wo(client, so, ids["cg"], "rate", 4, speed=1, result=1).status_code == 409


def test_whistle_doors(client, city, depts):
    a = at_street(city)
    assert _whistle(client, bearer(city.cw), a, depts.cg).status_code == 403  # not a street role
    assert _whistle(client, bearer(depts.h_cg), a, depts.cg).status_code == 404  # cannot see it
    assert _whistle(client, bearer(city.cw_x), a, depts.cg).status_code == 404  # another community
    assert _whistle(client, {}, a, depts.cg).status_code == 401
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    r = _whistle(client, bearer(city.so), a, depts.cg, report_due=past)
    assert r.status_code == 400 and r.json()["error"]["code"] == "deadline_past"
    assert "已经过去" in r.json()["error"]["message"]
    r = _whistle(client, bearer(city.so), a, depts.cg, report_due="tomorrow-ish")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
    r = _whistle(client, bearer(city.so), a, depts.far)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_organization"
    r = _whistle(client, bearer(city.so), a)
    assert r.status_code == 400 and r.json()["error"]["code"] == "summons_required"
    r = _whistle(client, bearer(city.so), a, depts.cg, version=a.version - 1)
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale"
    assert not WhistleSummons.objects.exists()
    b = submit(city.jumin)  # at grid level: the table has no whistle from "submitted"
    r = _whistle(client, bearer(city.so), b, depts.cg)
    assert r.status_code == 409 and r.json()["error"]["allowed_actions"] == ["reject", "merge"]


def test_work_order_doors(client, city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    assert client.get(f"/api/v1/workorders/{wo.pk}", **bearer(depts.h_cg)).status_code == 200
    assert client.get(f"/api/v1/workorders/{wo.pk}", **bearer(city.so)).status_code == 200
    for outsider in (depts.h_sj, depts.h_far, city.jumin, city.cw_x):
        assert client.get(f"/api/v1/workorders/{wo.pk}", **bearer(outsider)).status_code == 404
        assert _wo(client, bearer(outsider), wo.pk, "report", 1).status_code == 404
    assert client.get("/api/v1/workorders/999999", **bearer(depts.h_cg)).status_code == 404
    assert _wo(client, bearer(city.so), wo.pk, "report", 1).status_code == 403
    r = _wo(client, bearer(depts.h_cg), wo.pk, "resolve", 1, note="已处理")
    assert r.status_code == 409 and r.json()["error"]["allowed_actions"] == ["report", "return"]
    r = _wo(client, bearer(depts.h_cg), wo.pk, "rate", 1, speed=5, result=5)
    assert r.status_code == 409  # not resolved yet (and not the department's to give)
    assert _wo(client, bearer(depts.h_cg), wo.pk, "explode", 1).status_code == 404
    r = _wo(client, bearer(depts.h_cg), wo.pk, "return", 1, reason="")
    assert r.status_code == 400 and r.json()["error"]["code"] == "required"
    r = _post(client, f"/api/v1/workorders/{wo.pk}/report", bearer(depts.h_cg), {})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
    r = _post(client, f"/api/v1/workorders/{wo.pk}/resolve", bearer(depts.h_cg), {"note": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/v1/workorders", **bearer(city.jumin)).status_code == 403  # no department role
    assert client.get("/api/v1/workorders", **bearer(city.so)).status_code == 403
    wo.refresh_from_db()
    assert (wo.state, wo.version) == ("summoned", 1)


def test_rating_doors(client, city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    _wo(client, bearer(depts.h_cg), wo.pk, "report", 1)
    assert _wo(client, bearer(city.so), wo.pk, "rate", 2, speed=5, result=5).status_code == 409  # not resolved
    _wo(client, bearer(depts.h_cg), wo.pk, "resolve", 2, note="已处理")
    assert _wo(client, bearer(depts.h_cg), wo.pk, "rate", 3, speed=5, result=5).status_code == 403
    assert _wo(client, bearer(city.cw), wo.pk, "rate", 3, speed=5, result=5).status_code == 403
    assert _wo(client, bearer(city.jumin), wo.pk, "rate", 3, speed=5, result=5).status_code == 404
    r = _wo(client, bearer(city.so), wo.pk, "rate", 3, speed=6, result=5)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_rating"
    assert _wo(client, bearer(city.so), wo.pk, "rate", 3, speed=3, result=4).status_code == 200
    r = _wo(client, bearer(city.so), wo.pk, "rate", 4, speed=5, result=5)
    assert r.status_code == 409 and "只能评价一次" in r.json()["error"]["message"]
    # The rating is the street's and the department's to read, not the reporter's.
    assert client.get(f"/api/v1/workorders/{wo.pk}", **bearer(depts.h_cg)).json()["rating"]["result"] == 4
    own = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.jumin)).json()
    assert "summons_rate" not in [e["action"] for e in own["timeline"]]
    assert "rating" not in own["work_orders"][0]
    staff = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.so)).json()
    assert "summons_rate" in [e["action"] for e in staff["timeline"]]


def test_result_with_photos_as_a_multipart_form(client, city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    who = bearer(depts.h_cg)
    _wo(client, who, wo.pk, "report", 1)
    url = f"/api/v1/workorders/{wo.pk}/resolve"
    bad = client.post(url, {"version": 2, "note": "已处理",
                            "photos": [SimpleUploadedFile("x.jpg", NOT_AN_IMAGE, "image/jpeg")]}, **who)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "photo_type"
    r = client.post(url, {"version": 2, "note": "已处理，见照片",
                          "photos": [SimpleUploadedFile("a.jpg", JPEG, "image/jpeg"),
                                     SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")]}, **who)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "resolved" and len(body["photos"]) == 2
    assert AppealPhoto.objects.filter(work_order=wo).count() == 2
    photo = client.get(body["photos"][0]["url"], **bearer(city.jumin))  # the reporter sees the result photos
    assert photo.status_code == 200 and picture(b"".join(photo.streaming_content)) == picture(JPEG)
    assert client.get(body["photos"][0]["url"], **bearer(depts.h_far)).status_code == 404


def test_the_inbox_is_keyset_paginated_due_soonest_first(client, city, depts):
    made = []
    for hours in (30, 5, 50, 10, 20):
        a = whistle(city, at_street(city), depts.cg)
        WhistleSummons.objects.filter(appeal=a).update(step_due=timezone.now() + dt.timedelta(hours=hours))
        made.append((hours, a.work_orders.get().pk))
    same_due = timezone.now() + dt.timedelta(hours=40)  # two with one deadline: id breaks the tie
    for _ in range(2):
        a = whistle(city, at_street(city), depts.cg)
        WhistleSummons.objects.filter(appeal=a).update(step_due=same_due)
        made.append((40, a.work_orders.get().pk))
    expected = [pk for _h, pk in sorted(made)]
    who, got, after = bearer(depts.h_cg), [], ""
    for _ in range(10):
        page = client.get(f"/api/v1/workorders?limit=2&after={after}", **who).json()
        got += [w["id"] for w in page["items"]]
        after = page["next_after"]
        if not after:
            break
    assert got == expected
    assert client.get("/api/v1/workorders?after=garbage", **who).status_code == 400
    assert client.get("/api/v1/workorders?state=resolved", **who).json()["items"] == []
    assert len(client.get("/api/v1/workorders?state=all", **who).json()["items"]) == 7


def test_the_inbox_costs_a_fixed_number_of_queries(client, city, depts, django_assert_max_num_queries):
    who = bearer(depts.h_cg)
    whistle(city, at_street(city), depts.cg)
    client.get("/api/v1/workorders", **who)
    for _ in range(4):
        whistle(city, at_street(city), depts.cg, depts.squad)
    # token, token last-used, roles, one page of work orders with their appeals and organisations
    with django_assert_max_num_queries(4):
        r = client.get("/api/v1/workorders", **who)
    assert len(r.json()["items"]) == 9


def test_openapi_lists_the_whistle_and_work_order_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/appeals/{number}/whistle", "/api/v1/workorders", "/api/v1/workorders/{work_order_id}",
            "/api/v1/workorders/{work_order_id}/resolve", "/api/v1/workorders/{work_order_id}/{action}"} <= set(paths)
    resolve = paths["/api/v1/workorders/{work_order_id}/resolve"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(resolve)
