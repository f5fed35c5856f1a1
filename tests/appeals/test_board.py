"""The dispatch board (调度台): sections, counts, filters, paging and query budget on the page and
in the API; hotspot warnings listed, converted and dismissed through the page and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.appeals import hotspots
from gongzhi.appeals.models import Appeal, Hotspot, Source
from gongzhi.places.models import PlaceKind
from tests.appeals.conftest import at_street, bearer, submit, whistle
from tests.appeals.test_hotspots import repeats
from tests.factories import grid_tree, place

pytestmark = pytest.mark.django_db

BINJIANG = (108.3625, 22.8225)


@pytest.fixture
def binjiang(city):
    """A third community of the street with grids but no staff accounts: its appeals have no owner."""
    community = place(PlaceKind.COMMUNITY, "450102001009", "滨江社区", city.tree["street"])
    grid_tree(community, 108.36, 22.82, size=0.01)
    return community


def overdue(appeal):
    """The clock has passed the appeal's step deadline."""
    Appeal.objects.filter(pk=appeal.pk).update(step_due=timezone.now() - dt.timedelta(hours=1))
    return appeal


def board_numbers(client, section, **params) -> list[str]:
    r = client.get("/appeals/board/", {"section": section, **params})
    assert r.status_code == 200, r.content.decode()[:500]
    return [row.split('"')[0] for row in r.content.decode().split('data-testid="board-row" data-number="')[1:]]


def test_the_board_is_in_the_menu_of_community_workers_and_street_officers_only(client, city):
    for who, shown in ((city.cw, True), (city.so, True), (city.gw1, False), (city.jumin, False),
                       (city.auditor, False)):
        client.force_login(who)
        html = client.get("/appeals/mine/").content.decode()
        assert ('href="/appeals/board/"' in html) is shown, who.username


def test_others_are_refused_the_board(client, city):
    assert client.get("/appeals/board/").status_code == 302  # to the login page
    for who in (city.gw1, city.jumin, city.auditor):
        client.force_login(who)
        r = client.get("/appeals/board/")
        assert r.status_code == 403 and "你的角色不使用「调度台」" in r.content.decode()


def test_sections_list_unassigned_overdue_and_awaiting_whistle_in_my_scope(client, city, binjiang, depts):
    nobody = submit(city.jumin, point=BINJIANG, text="滨江小区路灯不亮")  # no staff there: no owner
    late = overdue(submit(city.jumin, text="噪声投诉一直没人处理"))
    up = at_street(city)
    dispatched = whistle(city, at_street(city), depts.cg)
    assert nobody.owner_id is None and dispatched.state == "dispatched"

    client.force_login(city.so)
    assert board_numbers(client, "unassigned") == [nobody.number]
    assert board_numbers(client, "overdue") == [late.number]
    assert board_numbers(client, "awaiting_whistle") == [up.number]
    html = client.get("/appeals/board/").content.decode()
    for section, n in (("unassigned", 1), ("overdue", 1), ("awaiting_whistle", 1), ("hotspots", 0)):
        assert f'data-testid="count-{section}">{n}<' in html, section

    client.force_login(city.cw)  # 北宁's community worker: not 滨江
    assert board_numbers(client, "unassigned") == []
    assert board_numbers(client, "overdue") == [late.number]
    assert board_numbers(client, "awaiting_whistle") == [up.number]
    client.force_login(city.cw_x)  # 兴宁's: nothing of 北宁
    assert board_numbers(client, "overdue") == [] and board_numbers(client, "awaiting_whistle") == []


def test_each_row_links_to_its_appeal_and_overdue_rows_are_marked(client, city):
    late = overdue(submit(city.jumin))
    client.force_login(city.cw)
    html = client.get("/appeals/board/?section=overdue").content.decode()
    assert f'href="/appeals/{late.number}/"' in html and 'data-testid="overdue"' in html


def test_filters_by_community_grid_and_category(client, city, binjiang):
    noise = overdue(submit(city.jumin))
    street_light = overdue(submit(city.jumin, category="facility_repair", text="路灯坏了"))
    far = overdue(submit(city.jumin, point=BINJIANG, text="滨江噪声"))
    client.force_login(city.so)
    assert set(board_numbers(client, "overdue")) == {noise.number, street_light.number, far.number}
    assert board_numbers(client, "overdue", category="noise") == [noise.number, far.number]
    assert set(board_numbers(client, "overdue", community=city.tree["beining"].code)) == {
        noise.number, street_light.number}
    html = client.get("/appeals/board/", {"section": "overdue", "community": city.tree["beining"].code}).content.decode()
    # The grid choice appears once a community is chosen: a searchable picker (a community may hold
    # hundreds of grids), posting the grid's code.
    assert 'name="grid" data-picker="grid" data-purpose="registry"' in html and 'data-value-field="code"' in html
    assert board_numbers(client, "overdue", grid=city.micros[1].code) == []
    assert set(board_numbers(client, "overdue", grid=city.micros[0].code)) == {noise.number, street_light.number}
    r = client.get("/appeals/board/", {"section": "overdue", "category": "no-such"})
    assert r.status_code == 400 and "未知的诉求分类：no-such" in r.content.decode()
    assert client.get("/appeals/board/", {"section": "everything"}).status_code == 400


def test_the_board_pages_through_a_section(client, city, settings):
    from gongzhi.appeals import views_board

    made = [overdue(submit(city.jumin, text=f"第 {i} 条")) for i in range(3)]
    old = views_board.PAGE_SIZE
    views_board.PAGE_SIZE = 2
    try:
        client.force_login(city.cw)
        r = client.get("/appeals/board/?section=overdue")
        html = r.content.decode()
        assert html.count('data-testid="board-row"') == 2 and 'data-testid="next-page"' in html
        after = html.split("after=")[1].split('"')[0]
        rest = board_numbers(client, "overdue", after=after)
        assert len(rest) == 1
        assert set(board_numbers(client, "overdue")) | set(rest) == {a.number for a in made}
    finally:
        views_board.PAGE_SIZE = old


def test_the_board_costs_a_fixed_number_of_queries(client, city, binjiang):
    client.force_login(city.so)

    def cost(section):
        client.get(f"/appeals/board/?section={section}")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/appeals/board/?section={section}").status_code == 200
        return len(ctx.captured_queries)

    overdue(submit(city.jumin))
    at_street(city)
    repeats(city, 5, category="fire_safety")
    hotspots.detect_hotspots()
    before = {s: cost(s) for s in ("overdue", "awaiting_whistle", "hotspots")}
    for i in range(4):
        overdue(submit(city.linju, text=f"又一条 {i}"))
        at_street(city)
    repeats(city, 5, category="greening")
    hotspots.detect_hotspots()
    after = {s: cost(s) for s in ("overdue", "awaiting_whistle", "hotspots")}
    assert after == before
    # session, user, roles, counts (one aggregate), open hotspots count, rows, communities, categories
    # (8 today; hotspots add the repeats' prefetch): room for one more per page from the site's chrome.
    assert before["overdue"] <= 9 and before["awaiting_whistle"] <= 9 and before["hotspots"] <= 10, before


# ---- hotspots on the page ----

@pytest.fixture
def hotspot(city):
    repeats(city, 5)
    hotspots.detect_hotspots()
    return Hotspot.objects.get()


def test_the_hotspot_section_lists_open_hotspots_with_forms_for_the_street_only(client, city, hotspot):
    client.force_login(city.so)
    html = client.get("/appeals/board/?section=hotspots").content.decode()
    assert f'data-testid="hotspot" data-id="{hotspot.pk}"' in html and "噪声扰民" in html
    assert 'data-testid="hotspot-convert"' in html and 'data-testid="hotspot-dismiss"' in html
    assert html.count('data-testid="hotspot-repeats"') == 1
    assert all(f'href="/appeals/{a.number}/"' in html for a in Appeal.objects.filter(hotspot=hotspot))
    client.force_login(city.cw)
    html = client.get("/appeals/board/?section=hotspots").content.decode()
    assert f'data-id="{hotspot.pk}"' in html and 'data-testid="hotspot-convert"' not in html


def test_converting_on_the_page_lands_on_the_proactive_appeal_listing_its_repeats(client, city, hotspot):
    client.force_login(city.so)
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/convert/",
                    {"version": hotspot.version, "title": "北宁夜市噪声集中整治", "text": "联合执法"})
    hotspot.refresh_from_db()
    p = hotspot.proactive_appeal
    assert r.status_code == 302 and r["Location"] == f"/appeals/{p.number}/"
    html = client.get(r["Location"]).content.decode()
    assert "未诉先办" in html and html.count('data-testid="repeat"') == 5
    assert "5 条重复诉求已关联" in html  # the message
    # A repeat's page points to the proactive appeal.
    one = Appeal.objects.filter(hotspot=hotspot).first()
    html = client.get(f"/appeals/{one.number}/").content.decode()
    assert 'data-testid="proactive"' in html and f'href="/appeals/{p.number}/"' in html
    # Its reporter learns it is being handled, without a link they could not open.
    client.force_login(city.jumin)
    html = client.get(f"/appeals/{one.number}/").content.decode()
    assert "已由街道纳入未诉先办统一处置" in html and f'href="/appeals/{p.number}/"' not in html
    assert client.get(f"/appeals/{p.number}/").status_code == 404


def test_bad_input_on_the_page_shows_the_message_and_changes_nothing(client, city, hotspot):
    client.force_login(city.so)
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/convert/",
                    {"version": hotspot.version, "title": " ", "text": "联合执法"})
    assert r.status_code == 400 and "请填写标题。" in r.content.decode()
    assert "联合执法" in r.content.decode()  # what was typed is kept
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/convert/",
                    {"version": hotspot.version + 3, "title": "集中整治", "text": "联合执法"})
    assert r.status_code == 409 and "该热点预警已被他人处理" in r.content.decode()
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/dismiss/", {"version": hotspot.version, "reason": ""})
    assert r.status_code == 400 and "请填写忽略原因。" in r.content.decode()
    hotspot.refresh_from_db()
    assert (hotspot.state, hotspot.version) == ("open", 1)
    assert not Appeal.objects.filter(source=Source.PROACTIVE).exists()
    assert client.post(f"/appeals/board/hotspots/{hotspot.pk}/explode/", {"version": 1}).status_code == 404


def test_a_grid_worker_cannot_convert_and_a_resident_gets_404(client, city, hotspot):
    client.force_login(city.gw1)
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/convert/", {"version": 1, "title": "t", "text": "x"})
    assert r.status_code == 403
    client.force_login(city.jumin)
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/convert/", {"version": 1, "title": "t", "text": "x"})
    assert r.status_code == 404
    assert Hotspot.objects.get(pk=hotspot.pk).state == "open"


def test_dismissing_on_the_page_returns_to_the_hotspots(client, city, hotspot):
    client.force_login(city.so)
    r = client.post(f"/appeals/board/hotspots/{hotspot.pk}/dismiss/",
                    {"version": hotspot.version, "reason": "商户已搬离"})
    assert r.status_code == 302 and r["Location"] == "/appeals/board/?section=hotspots"
    html = client.get(r["Location"]).content.decode()
    assert "已忽略热点预警" in html and f'data-id="{hotspot.pk}"' not in html


# ---- the API ----

def test_the_board_api_lists_a_section_with_counts_and_pages(client, city, binjiang):
    made = [overdue(submit(city.jumin, text=f"第 {i} 条")) for i in range(3)]
    nobody = submit(city.jumin, point=BINJIANG)
    h = bearer(city.so)
    r = client.get("/api/v1/appeals/board", {"section": "overdue", "limit": 2}, **h)
    assert r.status_code == 200
    body = r.json()
    assert body["section"] == "overdue" and body["counts"] == {
        "unassigned": 1, "overdue": 3, "awaiting_whistle": 0, "hotspots": 0}
    assert len(body["items"]) == 2 and body["next_after"]
    assert {"number", "state", "step_due", "overdue", "allowed_actions"} <= set(body["items"][0])
    rest = client.get("/api/v1/appeals/board", {"section": "overdue", "after": body["next_after"]}, **h).json()
    assert {i["number"] for i in body["items"] + rest["items"]} == {a.number for a in made}
    assert rest["next_after"] is None
    r = client.get("/api/v1/appeals/board", {"section": "unassigned", "scope": binjiang.code}, **h)
    assert [i["number"] for i in r.json()["items"]] == [nobody.number]
    r = client.get("/api/v1/appeals/board", {"section": "unassigned", "scope": city.tree["beining"].code}, **h)
    assert r.json()["items"] == [] and r.json()["counts"]["overdue"] == 3


def test_the_board_api_refuses_bad_input_and_other_roles(client, city):
    h = bearer(city.cw)
    r = client.get("/api/v1/appeals/board", {"section": "all"}, **h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_section"
    r = client.get("/api/v1/appeals/board", {"scope": "999999999999"}, **h)
    assert r.status_code == 400 and r.json()["error"]["message"] == "未知的地点编码：999999999999"
    r = client.get("/api/v1/appeals/board", {"section": "overdue", "after": "garbage"}, **h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"
    for who in (city.gw1, city.jumin):
        assert client.get("/api/v1/appeals/board", **bearer(who)).status_code == 403
    assert client.get("/api/v1/appeals/board").status_code == 401
    # "board" is not taken for an appeal number, and the appeal routes still work.
    a = submit(city.jumin)
    assert client.get(f"/api/v1/appeals/{a.number}", **h).status_code == 200


def test_the_board_api_costs_a_fixed_number_of_queries(client, city, django_assert_max_num_queries):
    h = bearer(city.so)
    for i in range(5):
        overdue(submit(city.jumin, text=f"第 {i} 条"))
    client.get("/api/v1/appeals/board?section=overdue", **h)
    # token, roles, rows, counts (one aggregate), open hotspots count (+ the token's last-used update)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/appeals/board?section=overdue", **h).status_code == 200


def test_the_hotspot_api_lists_shows_converts_and_dismisses(client, city, hotspot):
    h = bearer(city.so)
    body = client.get("/api/v1/hotspots", **h).json()
    [item] = body["items"]
    assert (item["id"], item["state"], item["appeal_count"], item["allowed_actions"]) == (
        hotspot.pk, "open", 5, ["convert", "dismiss"])
    assert item["category"]["code"] == "noise" and len(item["repeats"]) == 5 and body["next_before"] is None
    assert client.get(f"/api/v1/hotspots/{hotspot.pk}", **bearer(city.cw)).json()["allowed_actions"] == []
    assert client.get("/api/v1/hotspots", **bearer(city.jumin)).json()["items"] == []

    r = client.post(f"/api/v1/hotspots/{hotspot.pk}/convert", {"version": 1, "title": "集中整治", "text": "联合执法"},
                    content_type="application/json", **h)
    assert r.status_code == 201
    out = r.json()
    assert out["hotspot"]["state"] == "converted" and out["hotspot"]["proactive_appeal"] == out["appeal"]["number"]
    assert out["appeal"]["source"] == "proactive" and out["appeal"]["owner_level"] == "street"
    assert len(out["appeal"]["repeats"]) == 5
    r = client.post(f"/api/v1/hotspots/{hotspot.pk}/dismiss", {"version": 1, "reason": "重复"},
                    content_type="application/json", **h)
    assert r.status_code == 409 and r.json()["error"]["version"] == 2
    assert client.get("/api/v1/hotspots", **h).json()["items"] == []
    assert len(client.get("/api/v1/hotspots?state=converted", **h).json()["items"]) == 1
    assert client.get("/api/v1/hotspots?state=nonsense", **h).status_code == 400


def test_the_hotspot_api_refuses_the_wrong_people_and_bad_input(client, city, hotspot):
    url = f"/api/v1/hotspots/{hotspot.pk}"
    body = {"version": 1, "title": "集中整治", "text": "联合执法"}
    r = client.post(url + "/convert", body, content_type="application/json", **bearer(city.gw1))
    assert r.status_code == 403
    r = client.post(url + "/convert", body, content_type="application/json", **bearer(city.jumin))
    assert r.status_code == 404 and r.json()["error"]["code"] == "hotspot_not_found"
    r = client.post(url + "/convert", {**body, "title": ""}, content_type="application/json", **bearer(city.so))
    assert r.status_code == 400 and r.json()["error"]["message"] == "请填写标题。"
    r = client.post(url + "/convert", {"title": "x"}, content_type="application/json", **bearer(city.so))
    assert r.status_code == 400  # no version
    r = client.post(url + "/dismiss", {"version": 1, "reason": " "}, content_type="application/json",
                    **bearer(city.so))
    assert r.status_code == 400
    r = client.post(url + "/merge", {"version": 1}, content_type="application/json", **bearer(city.so))
    assert r.status_code == 404 and r.json()["error"]["actions"] == ["convert", "dismiss"]
    assert client.get("/api/v1/hotspots/999999", **bearer(city.so)).status_code == 404
    hotspot.refresh_from_db()
    assert (hotspot.state, hotspot.version) == ("open", 1)
