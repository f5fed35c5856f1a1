"""Appeals through /api/v1/: the whole loop, scoping, privacy, refusals with their status and shape."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import IN_GRID, IN_XINGNING, JPEG, NOT_AN_IMAGE, OUTSIDE, bearer, submit
from tests.photos import picture

pytestmark = pytest.mark.django_db


def _post(client, url, who, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", **who, **headers)


def _new(client, who, point=IN_GRID, **kw):
    body = {"category": "noise", "title": "夜间噪声", "text": "楼下烧烤店每晚营业到凌晨两点。", "lon": point[0],
            "lat": point[1], **kw}
    return _post(client, "/api/v1/appeals", who, body)


def _act(client, who, number, action, version, **fields):
    return _post(client, f"/api/v1/appeals/{number}/{action}", who, {"version": version, **fields})


def test_the_whole_loop_through_the_api(client, city):
    res, gw, cw = bearer(city.jumin), bearer(city.gw1), bearer(city.cw)
    r = _new(client, res)
    assert r.status_code == 201, r.content
    a = r.json()
    n = a["number"]
    assert (a["state"], a["owner"]["name"], a["owner_level"], a["source"]) == ("submitted", "王网格员", "grid", "api")
    assert a["allowed_actions"] == [] and a["timeline"][0]["action"] == "submit"
    steps = [
        (gw, "accept", {}, "accepted"),
        (gw, "hand_on", {"reason": "需社区协调"}, "escalated"),
        (cw, "accept", {}, "accepted"),
        (cw, "resolve", {"note": "约谈店主"}, "resolved"),
        (res, "rate", {"resolved": False, "satisfaction": "unsatisfied", "comment": "还是吵"}, "reopened"),
        (cw, "accept", {}, "accepted"),
        (cw, "resolve", {"note": "加装隔音"}, "resolved"),
        (res, "rate", {"resolved": True, "satisfaction": "satisfied"}, "rated"),
        (cw, "close", {}, "closed"),
    ]
    version = a["version"]
    for who, action, fields, state in steps:
        r = _act(client, who, n, action, version, **fields)
        assert r.status_code == 200, (action, r.content)
        assert r.json()["state"] == state
        version = r.json()["version"]
    detail = client.get(f"/api/v1/appeals/{n}", **res).json()
    assert [e["action"] for e in detail["timeline"]] == ["submit"] + [s[1] for s in steps]
    assert detail["rating"]["satisfaction"] == "satisfied" and detail["reopen_count"] == 1
    assert detail["timeline"][2]["data"] == {"reason": "需社区协调", "from_level": "grid", "to_level": "community",
                                             "from_level_label": "网格", "to_level_label": "社区"}


def test_transition_not_in_the_table_is_409_with_allowed_actions(client, city):
    a = submit(city.jumin)
    r = _act(client, bearer(city.gw1), a.number, "resolve", a.version, note="x")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "transition_not_allowed" and err["allowed_actions"] == ["accept", "hand_on"]


def test_stale_version_is_409(client, city):
    a = submit(city.jumin)
    assert _act(client, bearer(city.gw2), a.number, "accept", 1).status_code == 200
    r = _act(client, bearer(city.gw1), a.number, "accept", 1)
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "该诉求已被他人处理，请刷新后查看。"
    assert r.json()["error"]["state"] == "accepted"


def test_rating_by_others_is_403_or_404(client, city):
    a = submit(city.jumin)
    v = _act(client, bearer(city.gw1), a.number, "accept", 1).json()["version"]
    v = _act(client, bearer(city.gw1), a.number, "resolve", v, note="已处理").json()["version"]
    body = {"resolved": True, "satisfaction": "satisfied"}
    assert _act(client, bearer(city.gw1), a.number, "rate", v, **body).status_code == 403
    assert _act(client, bearer(city.cw), a.number, "rate", v, **body).status_code == 403
    assert _act(client, bearer(city.linju), a.number, "rate", v, **body).status_code == 404
    assert _act(client, bearer(city.jumin), a.number, "rate", v, **body).status_code == 200


def test_unknown_action_and_missing_version(client, city):
    a = submit(city.jumin)
    assert _act(client, bearer(city.gw1), a.number, "explode", 1).status_code == 404
    r = _post(client, f"/api/v1/appeals/{a.number}/accept", bearer(city.gw1), {})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"


def test_outside_grid_is_400_with_the_message_and_creates_nothing(client, city):
    r = _new(client, bearer(city.jumin), point=OUTSIDE)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "outside_grids" and "不在任何网格内" in r.json()["error"]["message"]
    assert not Appeal.objects.exists()


def test_idempotency_key_header_makes_a_retry_return_the_same_appeal(client, city):
    who = bearer(city.jumin)
    body = {"category": "noise", "text": "噪声", "lon": IN_GRID[0], "lat": IN_GRID[1]}
    first = _post(client, "/api/v1/appeals", who, body, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = _post(client, "/api/v1/appeals", who, body, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Appeal.objects.count() == 1


def test_unauthenticated_is_401(client, city):
    assert client.get("/api/v1/appeals").status_code == 401
    assert _new(client, {}).status_code == 401


def test_a_resident_sees_only_their_own_appeals(client, city):
    mine = submit(city.jumin)
    theirs = submit(city.linju)
    numbers = [a["number"] for a in client.get("/api/v1/appeals", **bearer(city.jumin)).json()["items"]]
    assert numbers == [mine.number]
    assert client.get(f"/api/v1/appeals/{theirs.number}", **bearer(city.jumin)).status_code == 404
    assert client.get("/api/v1/appeals/SQ20990101000001", **bearer(city.jumin)).status_code == 404


def test_staff_see_their_scope_only(client, city):
    here, there = submit(city.jumin), submit(city.jumin, point=IN_XINGNING)

    def numbers(u):
        return {a["number"] for a in client.get("/api/v1/appeals", **bearer(u)).json()["items"]}

    assert numbers(city.gw1) == numbers(city.cw) == {here.number}
    assert numbers(city.gw_x) == numbers(city.cw_x) == {there.number}
    assert numbers(city.so) == numbers(city.admin) == numbers(city.auditor) == {here.number, there.number}
    assert client.get(f"/api/v1/appeals/{there.number}", **bearer(city.gw1)).status_code == 404


def test_anonymous_reporter_is_not_in_staff_output(client, city):
    a = submit(city.jumin, anonymous=True)
    _act(client, bearer(city.gw1), a.number, "accept", 1)
    for staff in (city.gw1, city.cw, city.so, city.admin):
        listed = client.get("/api/v1/appeals", **bearer(staff)).content.decode()
        detail = client.get(f"/api/v1/appeals/{a.number}", **bearer(staff))
        assert detail.json()["reporter"] is None
        assert detail.json()["timeline"][0]["actor"] == "匿名居民"
        for text in (listed, detail.content.decode()):
            assert "张居民" not in text and "jumin" not in text
    own = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.jumin)).json()
    assert own["reporter"]["name"] == "张居民" and own["timeline"][0]["actor"] == "张居民"


def test_named_reporter_is_shown_to_staff(client, city):
    a = submit(city.jumin)
    assert client.get(f"/api/v1/appeals/{a.number}", **bearer(city.cw)).json()["reporter"]["name"] == "张居民"


def test_list_is_keyset_paginated_newest_first(client, city):
    made = [submit(city.jumin).number for _ in range(5)]
    who = bearer(city.cw)
    page1 = client.get("/api/v1/appeals?limit=2", **who).json()
    page2 = client.get(f"/api/v1/appeals?limit=2&before={page1['next_before']}", **who).json()
    page3 = client.get(f"/api/v1/appeals?limit=2&before={page2['next_before']}", **who).json()
    got = [a["number"] for p in (page1, page2, page3) for a in p["items"]]
    assert got == made[::-1] and page3["next_before"] is None
    assert [a["number"] for a in client.get("/api/v1/appeals?state=accepted", **who).json()["items"]] == []


def test_list_costs_a_fixed_number_of_queries(client, city, django_assert_max_num_queries):
    who = bearer(city.cw)
    for _ in range(2):
        submit(city.jumin)
    client.get("/api/v1/appeals", **who)
    for _ in range(6):
        submit(city.linju, anonymous=True)
    # token, token last-used, roles, one page of appeals with their relations
    with django_assert_max_num_queries(4):
        r = client.get("/api/v1/appeals", **who)
    assert len(r.json()["items"]) == 8


def test_photo_upload_checks_type_and_size(client, city):
    a = submit(city.jumin)
    who = bearer(city.jumin)
    url = f"/api/v1/appeals/{a.number}/photos"
    ok = client.post(url, {"file": SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")}, **who)
    assert ok.status_code == 201, ok.content
    bad = client.post(url, {"file": SimpleUploadedFile("p.jpg", NOT_AN_IMAGE, content_type="image/jpeg")}, **who)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "photo_type"
    huge = client.post(url, {"file": SimpleUploadedFile("p.jpg", JPEG + b"\0" * (5 << 20), "image/jpeg")}, **who)
    assert huge.status_code == 400 and huge.json()["error"]["code"] == "photo_too_large"
    got = client.get(ok.json()["url"], **who)
    assert got.status_code == 200 and picture(b"".join(got.streaming_content)) == picture(JPEG)
    assert client.get(ok.json()["url"], **bearer(city.linju)).status_code == 404
    assert client.get(ok.json()["url"], **bearer(city.gw1)).status_code == 200
    assert client.post(url, {"file": SimpleUploadedFile("p.jpg", JPEG, "image/jpeg")},
                       **bearer(city.linju)).status_code == 404


def test_openapi_lists_the_appeal_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/appeals", "/api/v1/appeals/{number}", "/api/v1/appeals/{number}/{action}",
            "/api/v1/appeals/{number}/photos"} <= set(paths)


def test_the_inbox_lists_my_open_appeals_due_soonest_first_in_keyset_pages(client, city):
    normal = submit(city.jumin, urgency="normal")
    urgent = submit(city.linju, urgency="urgent")
    later = submit(city.jumin, urgency="normal")
    gw = bearer(city.gw1)
    r = client.get("/api/v1/appeals/inbox?limit=2", **gw)
    assert r.status_code == 200, r.content
    page = r.json()
    assert [a["number"] for a in page["items"]] == [urgent.number, normal.number] and page["next_after"]
    rest = client.get(f"/api/v1/appeals/inbox?limit=2&after={page['next_after']}", **gw).json()
    assert [a["number"] for a in rest["items"]] == [later.number] and rest["next_after"] is None
    assert "accept" in page["items"][0]["allowed_actions"]
    # A resident has no inbox; a broken cursor is refused with a clear message.
    r = client.get("/api/v1/appeals/inbox", **bearer(city.jumin))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.get("/api/v1/appeals/inbox?after=nonsense", **gw)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"
