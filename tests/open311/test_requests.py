"""GET requests and requests/{id}: the mapping, filters, status, coarsened points, privacy, refusals."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.appeals import services as appeal_services
from gongzhi.appeals.models import Appeal, State
from gongzhi.open311 import selectors
from gongzhi.open311.services import CLOSED_STATES, status_of
from tests.factories import user
from tests.open311.conftest import JPEG, V2, assert_spec_error, json_of, key_of, submit, xml_of

pytestmark = pytest.mark.django_db

# Inside 北宁's micros[0] (108.32–108.325 × 22.82–22.825) but away from its centroid.
POINT = (108.3211, 22.8238)
CENTROID = (108.3225, 22.8225)  # (long, lat)

FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
          "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
          "address", "zipcode", "lat", "long", "media_url"]


def _get(client, path, fmt="json", **params):
    return client.get(f"{V2}/{path}.{fmt}" + ("?" + urlencode(params) if params else ""))


def _list(client, **params):
    return json_of(_get(client, "requests", **params))


def _iso(value):
    return timezone.localtime(value).isoformat(timespec="seconds")


def test_a_request_in_json_maps_the_appeal(client, city):
    a = submit(city.jumin, point=POINT, urgency="urgent")
    (r,) = _list(client)
    assert list(r) == FIELDS
    assert r == {
        "service_request_id": a.number, "status": "open", "status_notes": "已提交", "service_name": "噪声扰民",
        "service_code": "noise", "description": a.text, "agency_responsible": f"网格：{city.micros[0].name}",
        "service_notice": "", "requested_datetime": _iso(a.submitted_at), "updated_datetime": _iso(a.updated_at),
        "expected_datetime": _iso(a.resolve_due), "address": city.micros[0].name, "zipcode": "",
        "lat": CENTROID[1], "long": CENTROID[0], "media_url": None,
    }
    assert r["requested_datetime"].endswith("+08:00")
    assert a.resolve_due - a.submitted_at == dt.timedelta(hours=24)


def test_requests_in_xml_use_the_spec_element_names(client, city):
    a = submit(city.jumin, point=POINT)
    b = submit(city.linju, point=POINT, category="fire_safety")
    root = xml_of(_get(client, "requests", "xml"))
    assert root.tag == "service_requests"
    items = root.findall("request")
    assert [i.findtext("service_request_id") for i in items] == [b.number, a.number]
    assert [c.tag for c in items[0]] == FIELDS
    assert (items[1].findtext("status"), items[1].findtext("service_code"), items[1].findtext("lat"),
            items[1].findtext("long")) == ("open", "noise", str(CENTROID[1]), str(CENTROID[0]))
    assert items[1].find("media_url").text is None and items[1].find("zipcode").text is None


def test_one_request_by_id_is_a_list_of_one_in_both_formats(client, city):
    a = submit(city.jumin)
    submit(city.linju)
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["service_request_id"] == a.number
    (r,) = json_of(_get(client, f"requests/{a.number.lower()}"))
    assert r["service_request_id"] == a.number
    root = xml_of(_get(client, f"requests/{a.number}", "xml"))
    assert root.tag == "service_requests" and [i.findtext("service_request_id") for i in root] == [a.number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_request_id_is_404(client, city, fmt):
    assert_spec_error(_get(client, "requests/SQ20990101000001", fmt), 404, fmt, "SQ20990101000001")


@pytest.mark.parametrize("state", list(State))
def test_status_is_closed_once_resolved_or_ended_and_open_otherwise(state):
    closed = {State.RESOLVED, State.RATED, State.CLOSED, State.REJECTED, State.MERGED}
    assert status_of(state) == ("closed" if state in closed else "open")
    assert (state in CLOSED_STATES) == (state in closed)


def _states(city):
    """One appeal in each of: submitted, accepted, resolved, rejected, merged, escalated."""
    submitted = submit(city.jumin)
    accepted = appeal_services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    resolved = appeal_services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    resolved = appeal_services.appeal_resolve(actor=city.gw1, appeal=resolved, note="已劝导店主")
    rejected = appeal_services.appeal_reject(actor=city.cw, appeal=submit(city.jumin),
                                             reason="属于房屋买卖合同纠纷，须通过诉讼解决",
                                             redirect_to="兴宁区人民法院诉讼服务中心 0771-1234567")
    merged = appeal_services.appeal_merge(actor=city.cw, appeal=submit(city.linju), into=submitted.number)
    escalated = appeal_services.appeal_hand_on(actor=city.gw1, appeal=submit(city.jumin), reason="需社区协调")
    return {"submitted": submitted, "accepted": accepted, "resolved": resolved, "rejected": rejected,
            "merged": merged, "escalated": escalated}


def test_status_filter_and_status_notes(client, city):
    a = _states(city)
    by_id = {r["service_request_id"]: r for r in _list(client)}
    assert {k: by_id[v.number]["status"] for k, v in a.items()} == {
        "submitted": "open", "accepted": "open", "resolved": "closed", "rejected": "closed", "merged": "closed",
        "escalated": "open"}
    assert by_id[a["accepted"].number]["status_notes"] == "办理中"
    assert by_id[a["resolved"].number]["status_notes"] == "已办结"
    notes = by_id[a["rejected"].number]["status_notes"]
    assert notes.startswith("不予受理") and "属于房屋买卖合同纠纷，须通过诉讼解决" in notes
    assert "兴宁区人民法院诉讼服务中心 0771-1234567" in notes  # where to turn, with its phone, is kept
    assert a["submitted"].number in by_id[a["merged"].number]["status_notes"]
    opened = {r["service_request_id"] for r in _list(client, status="open")}
    closed = {r["service_request_id"] for r in _list(client, status="closed")}
    assert opened == {a[k].number for k in ("submitted", "accepted", "escalated")}
    assert closed == {a[k].number for k in ("resolved", "rejected", "merged")}
    assert {r["service_request_id"] for r in _list(client, status="open,closed")} == opened | closed
    assert {r["service_request_id"] for r in _list(client, status="CLOSED")} == closed


def test_agency_responsible_follows_the_owner_level(client, city):
    a = appeal_services.appeal_hand_on(actor=city.gw1, appeal=submit(city.jumin), reason="需社区协调")
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["agency_responsible"] == "社区：北宁社区"
    a = appeal_services.appeal_accept(actor=city.cw, appeal=a)
    a = appeal_services.appeal_hand_on(actor=city.cw, appeal=a, reason="需街道吹哨")
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["agency_responsible"] == "街道：民生街道"


def test_an_overdue_open_request_says_so(client, city):
    a = submit(city.jumin)
    Appeal.objects.filter(pk=a.pk).update(step_due=timezone.now() - dt.timedelta(hours=1))
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["status_notes"] == "已提交（已超期）"


def test_service_request_id_filter_takes_a_list_and_overrides_the_others(client, city):
    a, b, c = submit(city.jumin), submit(city.jumin), submit(city.jumin)
    Appeal.objects.filter(pk=a.pk).update(submitted_at=timezone.now() - dt.timedelta(days=400))
    got = _list(client, service_request_id=f"{a.number},{c.number.lower()}", status="closed",
                service_code="fire_safety", start_date="2020-01-01T00:00:00Z", end_date="2020-01-02T00:00:00Z")
    assert [r["service_request_id"] for r in got] == [c.number, a.number]
    assert _list(client, service_request_id="SQ20990101000001") == []
    assert b.number not in {r["service_request_id"] for r in _list(client, service_request_id=a.number)}


def test_service_code_filter_takes_a_list(client, city):
    noise = submit(city.jumin)
    fire = submit(city.jumin, category="fire_safety")
    submit(city.jumin, category="pets")
    assert [r["service_request_id"] for r in _list(client, service_code="noise")] == [noise.number]
    assert [r["service_request_id"] for r in _list(client, service_code="noise,fire_safety")] == [
        fire.number, noise.number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_filter_is_404(client, city, fmt):
    assert_spec_error(_get(client, "requests", fmt, service_code="noise,potholes"), 404, fmt, "potholes")


def test_dates_default_to_the_last_90_days(client, city):
    old, recent = submit(city.jumin), submit(city.jumin)
    when = timezone.now() - dt.timedelta(days=100)
    Appeal.objects.filter(pk=old.pk).update(submitted_at=when)
    assert [r["service_request_id"] for r in _list(client)] == [recent.number]
    local = timezone.localtime(when)
    window = {"start_date": (local - dt.timedelta(days=1)).isoformat(timespec="seconds"),
              "end_date": (local + dt.timedelta(days=1)).isoformat(timespec="seconds")}
    assert [r["service_request_id"] for r in _list(client, **window)] == [old.number]
    utc = when.astimezone(dt.UTC)
    z = {"start_date": f"{utc - dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
         "end_date": f"{utc + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}
    assert [r["service_request_id"] for r in _list(client, **z)] == [old.number]
    # Only a start: 90 days from it. Only an end: the 90 days before it. A bare date is a whole day.
    assert [r["service_request_id"] for r in _list(client, start_date=f"{local:%Y-%m-%d}")] == [old.number]
    assert [r["service_request_id"] for r in _list(client, end_date=f"{local:%Y-%m-%d}")] == [old.number]
    # A "+" the client forgot to encode arrives as a space and still reads as an offset.
    raw = client.get(f"{V2}/requests.json?start_date={local - dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%S}+08:00"
                     f"&end_date={local + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%S}+08:00")
    assert [r["service_request_id"] for r in json_of(raw)] == [old.number]


@pytest.mark.parametrize("params,contains", [
    ({"start_date": "yesterday"}, "start_date"),
    ({"end_date": "2026-13-45T00:00:00Z"}, "end_date"),
    ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "start_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ({"status": "pending"}, "open"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400(client, city, params, contains, fmt):
    assert_spec_error(_get(client, "requests", fmt, **params), 400, fmt, contains)


def test_at_most_the_cap_newest_first(client, city, monkeypatch):
    made = [submit(city.jumin) for _ in range(4)]
    monkeypatch.setattr(selectors, "MAX_RESULTS", 3)
    assert [r["service_request_id"] for r in _list(client)] == [a.number for a in reversed(made)][:3]


# ---- where a request is: the appeal's own point only for staff with it in scope ----

@pytest.mark.parametrize("who,exact", [
    (None, False), ("jumin", False), ("linju", False), ("gw_x", False), ("cw_x", False),
    ("gw1", True), ("leader", True), ("cw", True), ("so", True), ("admin", True), ("auditor", True),
    ("superuser", True),
])
def test_point_is_exact_only_for_staff_with_the_appeal_in_scope(client, city, who, exact):
    a = submit(city.jumin, point=POINT)
    params = {}
    if who == "superuser":
        params["api_key"] = key_of(user("root", is_superuser=True))
    elif who:
        params["api_key"] = key_of(getattr(city, who))
    expected = (POINT[1], POINT[0]) if exact else (CENTROID[1], CENTROID[0])
    (r,) = _list(client, **params)
    assert (r["lat"], r["long"]) == expected
    (r,) = json_of(_get(client, f"requests/{a.number}", **params))
    assert (r["lat"], r["long"]) == expected
    item = xml_of(_get(client, "requests", "xml", **params)).find("request")
    assert (float(item.findtext("lat")), float(item.findtext("long"))) == expected


def test_each_appeal_is_coarsened_to_its_own_micro_grid(client, city):
    submit(city.jumin, point=(108.3289, 22.8211))  # micros[2]: 108.325–108.33 × 22.82–22.825
    submit(city.jumin, point=(108.3411, 22.8212))  # 兴宁 xmicros[0]
    key = key_of(city.cw)  # in scope for 北宁 only
    got = [(r["long"], r["lat"], r["address"]) for r in _list(client, api_key=key)]
    assert got == [(108.3425, 22.8225, city.xmicros[0].name), (108.3289, 22.8211, city.micros[2].name)]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_bad_or_revoked_api_key_is_403_not_ignored(client, city, fmt):
    submit(city.jumin)
    assert_spec_error(_get(client, "requests", fmt, api_key="gz_not-a-real-key"), 403, fmt, "api_key")
    tok, key = ApiToken.issue(city.cw)
    ApiToken.objects.filter(pk=tok.pk).update(revoked_at=timezone.now())
    assert_spec_error(_get(client, "requests", fmt, api_key=key), 403, fmt)
    city.gw1.is_active = False
    city.gw1.save()
    assert_spec_error(_get(client, "requests/SQ1", fmt, api_key=key_of(city.gw1)), 403, fmt)


# ---- nobody's identity, anywhere ----

def test_no_reporter_identity_in_any_output(client, city):
    city.jumin.last_name = "居"
    city.jumin.email = "jumin@example.cn"
    city.jumin.save()
    text = "楼下烧烤店噪声很大，我的电话 13812345678，身份证 450102199001011234，请联系。"
    a = submit(city.jumin, text=text)
    b = submit(city.jumin, anonymous=True)
    c = appeal_services.appeal_submit(actor=city.cw, category="noise", text="电话代录：楼道堆放杂物", lon=POINT[0],
                                      lat=POINT[1], source="hotline", reporter_name="赵老伯",
                                      reporter_phone="13998765432", consent_recorded=True)
    forbidden = ["jumin", "张居民", "居民", "jumin@example.cn", "赵老伯", "赵**", "13998765432", "139****5432",
                 "13812345678", "450102199001011234", "reporter", "account"]
    bodies = []
    for key in (None, key_of(city.cw), key_of(city.jumin)):
        params = {"api_key": key} if key else {}
        for fmt in ("json", "xml"):
            bodies.append(_get(client, "requests", fmt, **params).content.decode())
            for n in (a.number, b.number, c.number):
                bodies.append(_get(client, f"requests/{n}", fmt, **params).content.decode())
    assert len(bodies) == 24
    for body in bodies:
        for word in forbidden:
            assert word not in body, (word, body)
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["description"] == "楼下烧烤店噪声很大，我的电话 138****5678，身份证 4501**********1234，请联系。"


def test_the_facade_never_loads_the_reporters_encrypted_fields(city):
    a = submit(city.jumin)
    loaded = selectors.request_get(a.number)
    deferred = loaded.get_deferred_fields()
    assert {"reporter_name_enc", "reporter_phone_enc", "reporter_phone_masked", "reporter_name_masked"} <= deferred


# ---- photos ----

def test_media_url_is_the_first_photo_behind_the_appeals_photo_route(client, city):
    photo = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    a = submit(city.jumin, photos=[photo])
    first = a.photos.order_by("id").first()
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["media_url"] == f"http://testserver/appeals/{a.number}/photos/{first.id}/"
    path = r["media_url"].removeprefix("http://testserver")
    anonymous = client.get(path)
    assert anonymous.status_code in (302, 404) and anonymous.get("Content-Type") != "image/jpeg"
    client.force_login(city.gw_x)  # staff out of scope: the same 404 as for a missing photo
    assert client.get(path).status_code == 404
    client.force_login(city.cw)
    resp = client.get(path)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert xml_of(_get(client, f"requests/{a.number}", "xml")).findtext("request/media_url") == r["media_url"]


# ---- cost ----

def test_a_list_costs_the_same_few_queries_whatever_its_length(client, city):
    key = key_of(city.cw)
    photo = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    submit(city.jumin, photos=[photo])
    submit(city.jumin, point=(108.3411, 22.8212))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            resp = _get(client, "requests", api_key=key)
        assert resp.status_code == 200
        return len(ctx.captured_queries), len(json_of(resp))

    count()  # the key's first use records when it was last used: one write, once a minute
    small, n_small = count()
    for i in range(6):
        submit(city.linju, point=(108.3411 if i % 2 else 108.3289, 22.8212),
               photos=[SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")])
    big, n_big = count()
    assert (n_small, n_big) == (2, 8)
    assert big == small and big <= 8, big


def test_what_a_key_sees_is_not_cached_for_others(client, city):
    submit(city.jumin)
    assert _get(client, "requests", api_key=key_of(city.cw))["Cache-Control"] == "private, no-store"
    assert "Cache-Control" not in _get(client, "requests")


def test_control_characters_in_the_text_do_not_break_the_xml_feed(client, city):
    a = submit(city.jumin, text="噪声\x00很大\x0b，<b>每晚</b> & 凌晨\x1f两点")
    item = xml_of(_get(client, "requests", "xml")).find("request")
    assert item.findtext("description") == "噪声很大，<b>每晚</b> & 凌晨两点"
    (r,) = json_of(_get(client, f"requests/{a.number}"))
    assert r["description"] == a.text  # JSON escapes them itself


def test_summoned_departments_are_named_responsible_once_work_orders_exist(city):
    from types import SimpleNamespace

    from gongzhi.open311.services import agency_responsible

    a = submit(city.jumin)
    orders = [SimpleNamespace(state="reported", assignee=SimpleNamespace(name="区城管局")),
              SimpleNamespace(state="summoned", assignee=SimpleNamespace(name="区住建局")),
              SimpleNamespace(state="returned", assignee=SimpleNamespace(name="区水利局"))]
    view = SimpleNamespace(owner_level="street", grid=a.grid, community=a.community,
                           work_orders=SimpleNamespace(all=lambda: orders))
    assert agency_responsible(view) == "街道：民生街道；职能部门：区住建局、区城管局"


@pytest.mark.skipif(not hasattr(appeal_services, "whistle_blow"), reason="needs the whistle slice of appeals")
def test_a_summoned_department_sees_the_point_and_is_named_responsible(client, city):
    from gongzhi.org.models import Organization

    cg = Organization.objects.create(kind="department", name="兴宁区城市管理局", place=city.tree["district"])
    sj = Organization.objects.create(kind="department", name="兴宁区市场监督管理局", place=city.tree["district"])
    handler = user("h_cg", ("department_handler", cg))
    stranger = user("h_sj", ("department_handler", sj))
    a = submit(city.jumin, point=POINT)
    a = appeal_services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    a = appeal_services.appeal_accept(actor=city.cw, appeal=a)
    a = appeal_services.appeal_hand_on(actor=city.cw, appeal=a, reason="需街道吹哨")
    a = appeal_services.whistle_blow(actor=city.so, appeal=a, version=a.version,
                                     summons=[{"organization_id": cg.pk}])
    (r,) = _list(client, api_key=key_of(handler))
    assert (r["lat"], r["long"]) == (POINT[1], POINT[0])
    assert (r["status"], r["agency_responsible"]) == ("open", "街道：民生街道；职能部门：兴宁区城市管理局")
    (r,) = _list(client, api_key=key_of(stranger))
    assert (r["lat"], r["long"]) == (CENTROID[1], CENTROID[0])


@pytest.mark.parametrize("url", [
    f"{V2}/requests.json?service_request_id=SQ%00", f"{V2}/requests/SQ%00.json", f"{V2}/requests.xml?service_code=a%00",
    f"{V2}/requests.json?status=open%00", f"{V2}/requests.json?start_date=2026-01-01%00", f"{V2}/tokens/ab%00.json",
    f"{V2}/requests.json?api_key=%00",
])
def test_a_nul_byte_in_any_parameter_is_the_specs_400_not_a_500(client, city, url):
    """PostgreSQL refuses NUL in text: without the check these reached the database and failed as 500s."""
    assert_spec_error(client.get(url), 400, "xml" if ".xml" in url else "json")
