"""The public face of appeals (no sign-in): a page per appeal, a list with a map per community, and the
JSON door, all read from the one public view (appeals/public.py) that Open311 reads too.

Nothing personal reaches any of them: no reporter (name, phone, account), no staff names, no rating
comment, no photo; numbers typed into free text are masked; the location is the micro grid's centre.
"""

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.appeals import public, services
from gongzhi.appeals.models import Source
from gongzhi.places.models import Grid
from tests.appeals.conftest import IN_XINGNING, JPEG, at_street, submit, whistle
from tests.pii_numbers import leaked, texts_with_a_number

pytestmark = pytest.mark.django_db

# Inside 北宁's micros[0] (108.32–108.325, 22.82–22.825) but away from its centre (108.3225, 22.8225).
OFF_CENTRE = (108.3211, 22.8239)
STAFF_NAMES = ("王网格员", "刘网格员", "黄网格长", "李社工", "陈干部", "张居民", "覃城管")
XSS_TITLE = "标题<img src=x onerror=alert(1)>"


def _doors(client, appeal) -> dict:
    """Everything public about the appeal, by door: its page, its community's list (with the map's
    data), the JSON list and the JSON appeal, and Open311."""
    code = appeal.community.code
    return {
        "page": client.get(f"/appeals/public/{appeal.number}/").content.decode(),
        "list": client.get("/appeals/public/?" + urlencode({"community": code})).content.decode(),
        "api_list": client.get("/api/v1/public/appeals?" + urlencode({"community": code})).content.decode(),
        "api": client.get(f"/api/v1/public/appeals/{appeal.number}").content.decode(),
        "open311": client.get(f"/open311/v2/requests/{appeal.number}.json").content.decode(),
    }


def _api(client, url, **params):
    resp = client.get(url + ("?" + urlencode(params) if params else ""))
    return resp.status_code, resp.json()


def _assisted(city, **kw):
    params = {"source": Source.HOTLINE, "reporter_name": "欧阳秀英", "reporter_phone": "13987654321",
              "consent_recorded": True}
    params.update(kw)
    return submit(city.cw, **params)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(in_title=texts_with_a_number(max_len=60), in_text=texts_with_a_number(max_len=200))
def test_no_personal_number_or_name_reaches_any_public_door(client, city, in_title, in_text):
    title, title_secrets = in_title
    text, text_secrets = in_text
    a = _assisted(city, title=title or "噪声", text="楼下烧烤店噪声很大。" + text)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已联系 " + text + " 处理")
    for door, body in _doors(client, a).items():
        assert a.number in body, door
        assert not leaked(body, title_secrets + text_secrets + ("13987654321",)), (door, title, text)
        for name in ("欧阳秀英", "欧*英", "139****4321", *STAFF_NAMES):
            assert name not in body, (door, name)


def test_the_reporter_staff_and_rating_comment_are_in_no_door_but_the_outcome_is(client, city):
    a = submit(city.jumin, title="楼道灯坏了，电话 13812345678", text="请联系身份证 450102199001011234 的业主",
               point=OFF_CENTRE, anonymous=True,
               photos=[SimpleUploadedFile("p.jpg", JPEG, "image/jpeg")])
    a = services.appeal_accept(actor=city.gw1, appeal=a, note="王网格员已到场，联系人 13700001111")
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已更换灯泡，回访电话 13812345678")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied",
                             comment="谢谢王网格员，我是张居民 13812345678")
    doors = _doors(client, a)
    for door, body in doors.items():
        for secret in ("13812345678", "450102199001011234", "13700001111", "谢谢", "jumin", *STAFF_NAMES):
            assert secret not in body, (door, secret)
        assert "/photos/" not in body or door == "open311", door  # Open311 links to the access-checked route
    view = json.loads(doors["api"])
    assert view["title"] == "楼道灯坏了，电话 138****5678"
    assert view["rating"] == {"resolved": True, "satisfaction": "satisfied", "satisfaction_label": "满意"}
    steps = {s["action"]: s["detail"] for s in view["steps"]}
    assert list(steps) == ["submit", "accept", "resolve", "rate"]
    assert steps["resolve"] == "已更换灯泡，回访电话 138****5678"
    assert steps["accept"] == "办理层级：网格" and steps["rate"] == "已解决 · 满意"
    assert "reporter" not in json.dumps(view) and "photo" not in json.dumps(view)
    page = doors["page"]
    assert "已更换灯泡，回访电话 138****5678" in page and "已解决 · 满意" in page


def test_the_location_is_the_grid_centre_never_the_reported_point(client, city):
    a = submit(city.jumin, point=OFF_CENTRE)
    centre = public.grid_centroid(Grid.objects.get(pk=a.grid_id))
    assert centre == (108.3225, 22.8225) and centre != OFF_CENTRE
    _s, view = _api(client, f"/api/v1/public/appeals/{a.number}")
    assert (view["lon"], view["lat"]) == centre
    _s, page = _api(client, "/api/v1/public/appeals", community=a.community.code)
    assert [(v["lon"], v["lat"]) for v in page["items"]] == [centre]
    for door, body in _doors(client, a).items():
        assert "108.3211" not in body and "22.8239" not in body, door
    html = client.get(f"/appeals/public/?community={a.community.code}").content.decode()
    points = json.loads(html.split('id="public-points" type="application/json">')[1].split("</script>")[0])
    assert [(p["lon"], p["lat"]) for p in points] == [centre]


def test_handing_on_and_the_whistle_show_levels_and_departments_never_people(client, city, depts):
    a = at_street(city, accept=True)
    a = whistle(city, a, depts.cg, depts.sj)
    _s, view = _api(client, f"/api/v1/public/appeals/{a.number}")
    steps = [(s["action"], s["detail"]) for s in view["steps"]]
    assert ("hand_on", "网格 → 社区") in steps and ("hand_on", "社区 → 街道") in steps
    assert ("whistle", "召集：兴宁区城市管理局、兴宁区市场监督管理局") in steps
    assert sorted(view["departments"]) == sorted(["兴宁区市场监督管理局", "兴宁区城市管理局"])
    body = json.dumps(view, ensure_ascii=False) + client.get(f"/appeals/public/{a.number}/").content.decode()
    for name in (*STAFF_NAMES, "覃城管", "需社区协调", "涉及城管和市场监管"):  # people and internal reasons
        assert name not in body, name


def test_a_rejection_shows_its_reason_masked_and_where_to_turn(client, city):
    a = services.appeal_reject(actor=city.cw, appeal=submit(city.jumin), reason="反映人 138 1234 5678 的房屋买卖纠纷",
                               redirect_to="兴宁区人民法院诉讼服务中心 0771-1234567")
    _s, view = _api(client, f"/api/v1/public/appeals/{a.number}")
    assert view["reject_reason"] == "反映人 138****5678 的房屋买卖纠纷"
    assert view["redirect_to"] == "兴宁区人民法院诉讼服务中心 0771-1234567"
    page = client.get(f"/appeals/public/{a.number}/").content.decode()
    assert "138 1234 5678" not in page and "138****5678" in page and "0771-1234567" in page


def test_open311_and_the_public_pages_read_the_same_view(client, city):
    a = submit(city.jumin, text="噪声扰民，联系 138-1234-5678", point=OFF_CENTRE)
    (r,) = json.loads(client.get(f"/open311/v2/requests/{a.number}.json").content)
    _s, view = _api(client, f"/api/v1/public/appeals/{a.number}")
    assert r["description"] == view["text"] == "噪声扰民，联系 138****5678"
    assert (r["long"], r["lat"]) == (view["lon"], view["lat"])
    assert r["status_notes"] == view["status_notes"] and r["agency_responsible"] == view["agency_responsible"]


def test_an_xss_title_is_text_on_the_page_and_the_list(client, city):
    a = submit(city.jumin, title=XSS_TITLE)
    for url in (f"/appeals/public/{a.number}/", f"/appeals/public/?community={a.community.code}"):
        body = client.get(url).content.decode()
        assert "<img src=x" not in body, url
        assert "标题&lt;img src=x onerror=alert(1)&gt;" in body or "\\u003Cimg" in body, url


def test_unknown_numbers_are_404_on_the_page_and_the_api(client, city):
    assert client.get("/appeals/public/SQ20990101000001/").status_code == 404
    status, body = _api(client, "/api/v1/public/appeals/SQ20990101000001")
    assert status == 404 and body["error"]["code"] == "unknown_appeal"
    assert client.get("/appeals/public/" + "X" * 300 + "/").status_code == 404
    assert client.get("/appeals/public/SQ%00/").status_code == 400  # the input guard: never reaches SQL
    assert client.get("/api/v1/public/appeals/SQ%00").status_code == 400


@pytest.mark.parametrize("params", [
    {"community": "nope"}, {"community": "9" * 200}, {"category": "nope"}, {"state": "bogus"},
    {"after": "SQ20990101000001"}, {"after": "x" * 50}, {"limit": "0"}, {"limit": "abc"}, {"limit": "1000"},
    {"limit": "-1"}, {"community": "45\x00"}, {"after": "SQ\x00"}, {"category": "噪声"}, {"state": "ｏｐｅｎ"},
])
def test_bad_query_input_is_a_clear_400_on_the_page_and_the_api(client, city, params):
    submit(city.jumin)
    page = client.get("/appeals/public/?" + urlencode(params))
    assert page.status_code == 400, params
    status, body = _api(client, "/api/v1/public/appeals", **params)
    assert status == 400 and body["error"]["message"], (params, body)


def test_the_list_is_per_community_filtered_and_paged_newest_first(client, city):
    first, second, third = (submit(city.jumin, title=f"第{i}条") for i in range(3))
    other = submit(city.jumin, point=IN_XINGNING, title="兴宁的")
    services.appeal_reject(actor=city.cw, appeal=second, reason="不属于受理范围", redirect_to="区信访局")
    code = first.community.code
    _s, page1 = _api(client, "/api/v1/public/appeals", community=code, limit="2")
    assert [v["number"] for v in page1["items"]] == [third.number, second.number]
    assert page1["next_after"] == second.number
    _s, page2 = _api(client, "/api/v1/public/appeals", community=code, limit="2", after=page1["next_after"])
    assert [v["number"] for v in page2["items"]] == [first.number] and page2["next_after"] is None
    _s, closed = _api(client, "/api/v1/public/appeals", community=code, state="closed")
    assert [v["number"] for v in closed["items"]] == [second.number]
    _s, rejected = _api(client, "/api/v1/public/appeals", state="rejected", category="noise")
    assert [v["number"] for v in rejected["items"]] == [second.number]
    _s, everyone = _api(client, "/api/v1/public/appeals")
    assert other.number in [v["number"] for v in everyone["items"]]
    html = client.get(f"/appeals/public/?community={code}&state=open").content.decode()
    assert third.number in html and first.number in html and second.number not in html
    assert other.number not in html


def test_the_public_pages_need_no_sign_in_and_are_cached_like_the_wish_wall(client, city):
    a = submit(city.jumin)
    for url in (f"/appeals/public/{a.number}/", "/appeals/public/", f"/appeals/public/?community={a.community.code}"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp["Cache-Control"] == "public, max-age=60", url
    client.force_login(city.linju)
    assert client.get("/appeals/public/")["Cache-Control"] == "private, max-age=60"
    assert _api(client, f"/api/v1/public/appeals/{a.number}")[0] == 200  # a session changes nothing
    assert client.get("/api/v1/public/appeals")["Cache-Control"] == "private, max-age=60"
    client.logout()
    assert client.get("/api/v1/public/appeals")["Cache-Control"] == "public, max-age=60"
    assert client.get(f"/api/v1/public/appeals/{a.number}")["Cache-Control"] == "public, max-age=60"


def test_the_reporter_finds_the_public_page_from_their_appeal_and_the_wall_links_the_list(client, city):
    a = submit(city.jumin)
    client.force_login(city.jumin)
    assert f'href="/appeals/public/{a.number}/"' in client.get(f"/appeals/{a.number}/").content.decode()
    wall = client.get(f"/wishes/?place={city.tree['beining'].code}").content.decode()
    assert f'href="/appeals/public/?community={city.tree["beining"].code}"' in wall
    assert 'href="/appeals/public/"' in client.get("/wishes/").content.decode()


@pytest.mark.parametrize("lang, words", [("zh-hans", "标题和描述将公开"), ("en", "The title and description will be public")])
def test_the_forms_say_plainly_that_the_description_becomes_public(client, city, lang, words):
    client.cookies["django_language"] = lang  # pages follow the language switch (its cookie)
    client.force_login(city.jumin)
    assert words in client.get("/appeals/new/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    client.force_login(city.cw)
    assert words in client.get("/appeals/entry/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()


@given(junk=st.text(max_size=40))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_string_is_a_page_or_a_400_never_a_500(client, city, junk):
    for name in ("community", "category", "state", "after", "limit"):
        assert client.get("/appeals/public/", {name: junk}).status_code in (200, 400)
        assert client.get("/api/v1/public/appeals", {name: junk}).status_code in (200, 400)


def test_a_page_of_the_list_costs_the_same_number_of_queries_at_any_size(client, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    submit(city.jumin)
    url = f"/appeals/public/?community={city.tree['beining'].code}"
    few, few_api = count(url), count("/api/v1/public/appeals")
    for i in range(6):
        submit(city.jumin, point=(108.3211 + 0.005 * (i % 2), 22.8239), title=f"第{i}条")
    assert count(url) == few and count("/api/v1/public/appeals") == few_api
