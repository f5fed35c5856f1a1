"""In real headless Chromium, one appeal the whole way (issue 4): a resident submits it on the map →
the grid worker accepts it and hands it on → the community accepts it and hands it on to the street →
the street officer whistles two departments → both report for duty and submit their results → the
resident rates it unsatisfied → redo → the resident rates it satisfied → the street's KPIs moved by
exactly what kpi.py defines for that walk.

Every step is a click in a real page, each person in their own browser. Services and the ORM only set
up the people and organisations (fixtures), one background appeal so the KPI numbers do not start at
zero, and the final cross-checks.
"""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.appeals import kpi, services
from gongzhi.appeals.models import Appeal, AppealPhoto, WhistleSummons
from tests.appeals.conftest import IN_GRID, JPEG, submit, whistle
from tests.appeals.test_e2e import click_map_at, login
from tests.pickers import pick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}}
DESKTOP = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}

# The KPI page's columns (its table headings) that the walk moves, by the counter each one shows.
APPEAL_COLUMNS = {"submitted": "提交诉求", "accepted": "已响应", "resolved": "办结次数", "rated": "已评价诉求",
                  "overdue": "超时诉求", "bounces": "退回下级", "handed_on": "上报上级", "reopened": "重新办理"}
DEPT_COLUMNS = {"summoned": "被召集工单", "reported": "已报到", "wo_resolved": "部门办结", "returned": "部门退回",
                "wo_overdue": "工单超时预警", "wo_rated": "街道评价次数"}

_TABLE_JS = """t => { const heads = [...t.querySelectorAll('thead th')].map(th => th.innerText.trim());
  return [...t.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
    [...tr.children].map((td, i) => [heads[i], td.innerText.trim()]))); }"""


# ---- what a page shows ----

def offered(pg) -> list[str]:
    """The appeal actions the page offers its viewer (forms in the 办理 card), in table order."""
    return pg.locator("[data-testid=actions] form.act").evaluate_all("fs => fs.map(f => f.dataset.testid)")


def wo_offered(pg) -> list[str]:
    return pg.locator("[data-testid=work-order-actions] form.act").evaluate_all(
        "fs => fs.map(f => f.dataset.testid)")


def timeline(pg) -> list[str]:
    """The labels of the appeal's timeline events, oldest first."""
    return pg.locator("[data-testid=event] > b").all_inner_texts()


def state(pg) -> str:
    return pg.get_by_test_id("appeal-state").inner_text()


def follow(pg, link):
    """Click a link (or a form's button) and wait until the page it loads has loaded completely."""
    with pg.expect_navigation():
        link.click()


def open_appeal(pg, base, number):
    pg.goto(f"{base}/appeals/{number}/")
    pg.get_by_test_id("appeal-number").wait_for()
    assert pg.get_by_test_id("appeal-number").inner_text() == number


def unfold_and_act(pg, action, **fields):
    """Open a folded action (上报上级 …), fill its fields and submit it; wait for the appeal page again."""
    form = pg.get_by_test_id(f"act-{action}")
    pg.locator("details", has=form).locator("summary").click()
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    follow(pg, form.get_by_test_id(f"do-{action}"))


def rate(pg, *, resolved: str, satisfaction: str, comment: str):
    form = pg.get_by_test_id("act-rate")
    form.locator(f"input[name=resolved][value='{resolved}']").check()
    form.locator(f"input[name=satisfaction][value='{satisfaction}']").check()
    form.locator("textarea[name=comment]").fill(comment)
    follow(pg, form.get_by_test_id("do-rate"))


def blow_whistle(pg, orgs, note):
    """The whistle form on the appeal page: one organisation per row (empty rows are skipped)."""
    form = pg.get_by_test_id("act-whistle")
    selects = form.get_by_test_id("summons-organization")
    assert selects.count() >= len(orgs)
    for i, org in enumerate(orgs):
        pick(selects.nth(i), org.name, org.name)  # the searchable picker (static/js/picker.js)
    form.locator("textarea[name=note]").fill(note)
    follow(pg, form.get_by_test_id("do-whistle"))


def work_the_order(pg, base, number, org, result) -> str:
    """A department handler reports for duty from the work-order inbox (one tap), then submits the
    result with a photo on the work order's page. Returns the appeal's state as that page shows it."""
    pg.goto(base + "/appeals/workorders/")
    row = pg.locator(f"[data-testid=work-order-row][data-number='{number}']")
    assert row.count() == 1  # one open work order of this organisation on this appeal, not the others'
    assert "待报到" in row.inner_text() and org.name in row.text_content()  # (the unit column is hidden on phones)
    assert row.get_by_test_id("report").count() == 1  # 报到 in one tap
    follow(pg, row.get_by_test_id("report"))
    assert pg.url == base + "/appeals/workorders/"
    assert "已报到" in pg.locator(".messages").inner_text()
    row = pg.locator(f"[data-testid=work-order-row][data-number='{number}']")
    assert "已报到" in row.inner_text() and row.get_by_test_id("go-resolve").count() == 1
    follow(pg, row.get_by_test_id("open-work-order"))
    assert pg.get_by_test_id("work-order-state").inner_text() == "已报到"
    assert wo_offered(pg) == ["wo-act-resolve"]  # reported: only the result is left to do
    form = pg.get_by_test_id("wo-act-resolve")
    form.locator("textarea[name=note]").fill(result)
    form.locator("input[name=photos]").set_input_files([{"name": "result.jpg", "mimeType": "image/jpeg",
                                                         "buffer": JPEG}])
    follow(pg, form.get_by_test_id("wo-do-resolve"))
    assert pg.get_by_test_id("work-order-state").inner_text() == "已办结"
    assert result in pg.get_by_test_id("result").inner_text()
    assert wo_offered(pg) == []  # rating a department is the street's, not the department's
    appeal_state = pg.get_by_test_id("appeal-state").inner_text()
    # Done: gone from the open list, still in the full one.
    pg.goto(base + "/appeals/workorders/")
    assert pg.locator(f"[data-testid=work-order-row][data-number='{number}']").count() == 0
    pg.goto(base + "/appeals/workorders/?state=all")
    assert "已办结" in pg.locator(f"[data-testid=work-order-row][data-number='{number}']").first.inner_text()
    return appeal_state


# ---- the KPI numbers: the page (as the street officer sees it) and the API in the same browser ----

def kpi_page(pg, base, query) -> dict:
    pg.goto(f"{base}/appeals/kpi/?{query}")
    pg.get_by_test_id("kpi-scope").wait_for()
    assert pg.get_by_test_id("kpi-scope").inner_text() == "民生街道"
    rows = pg.get_by_test_id("kpi-table").evaluate(_TABLE_JS)
    depts = (pg.get_by_test_id("kpi-departments").evaluate(_TABLE_JS)
             if pg.get_by_test_id("kpi-departments").count() else [])
    total = {c: int(pg.get_by_test_id(f"total-{c}").inner_text()) for c in APPEAL_COLUMNS}
    assert total == {c: int(rows[0][h]) for c, h in APPEAL_COLUMNS.items()}  # the 合计 row
    return {
        "total": total,
        "children": {r["名称"]: {c: int(r[h]) for c, h in APPEAL_COLUMNS.items()} for r in rows[1:]},
        "departments": {r["单位"]: {c: int(r[h]) for c, h in DEPT_COLUMNS.items()} for r in depts},
        "rates": {r: pg.get_by_test_id(f"rate-{r}").locator("b").inner_text()
                  for r in ("response_rate", "satisfaction_rate", "resolution_rate")},
    }


def kpi_api(pg, base, query) -> dict:
    resp = pg.request.get(f"{base}/api/v1/kpis/appeals?{query}")  # the browser's session
    assert resp.status == 200, resp.text()
    return resp.json()


def dept(data, name) -> dict:
    """One organisation's row of the API's departments list (zeros when it was never summoned)."""
    return next((d for d in data["departments"] if d["name"] == name), dict.fromkeys(kpi.COUNTERS, 0))


def delta(after: dict, before: dict, names) -> dict:
    return {n: after[n] - before[n] for n in names}


def test_one_appeal_walks_the_whole_loop_and_the_kpis_follow(page, browser, live_server, city, depts):
    base = live_server.url
    tree = city.tree
    # Background: another resident's appeal already whistled to 城管局 (services: setup only), so the
    # street's numbers and 城管局's row are not zero before the walk.
    bg = submit(city.linju, title="井盖松动", category="facility_repair", text="北宁街 3 号井盖松动。")
    bg = services.appeal_hand_on(actor=city.gw1, appeal=bg, reason="需社区协调")
    bg = services.appeal_accept(actor=city.cw, appeal=bg)
    bg = services.appeal_hand_on(actor=city.cw, appeal=bg, reason="需街道协调")
    whistle(city, bg, depts.cg)

    # A period around today (Asia/Shanghai) that still holds if the walk crosses midnight.
    today = timezone.localdate()
    query = (f"scope={tree['street'].code}&start={today - dt.timedelta(days=1)}"
             f"&end={today + dt.timedelta(days=1)}")
    cg_name, sj_name = depts.cg.name, depts.sj.name

    pages = []

    def person(username, ctx=PHONE):
        pg = browser.new_context(**ctx).new_page()
        pg.set_default_timeout(15000)
        pages.append(pg)
        login(pg, base, username)
        return pg

    try:
        # ---- the street officer reads the KPIs before ----
        so = page
        login(so, base, "so")
        before_page, before_api = kpi_page(so, base, query), kpi_api(so, base, query)
        assert before_page["total"] == {c: before_api["totals"][c] for c in APPEAL_COLUMNS}
        assert before_page["total"]["submitted"] == 1 and before_page["total"]["handed_on"] == 2
        assert before_page["departments"][cg_name]["summoned"] == 1 and sj_name not in before_page["departments"]

        # ---- 1. the resident submits on the map (on a phone) ----
        resident = person("jumin")
        resident.goto(base + "/appeals/new/")
        resident.select_option("select[name=category]", "noise")
        resident.fill("input[name=title]", "夜市烧烤噪声和油烟")
        resident.fill("textarea[name=text]", "北宁街 12 号门口的烧烤摊每晚占道经营到凌晨两点，噪声大、油烟重。")
        resident.locator("#pick-map").scroll_into_view_if_needed()  # below the form on a phone
        click_map_at(resident, *IN_GRID)
        resident.locator("#pick-status", has_text="已选择位置").wait_for()  # no eval under the CSP
        follow(resident, resident.get_by_test_id("submit-appeal"))
        number = resident.get_by_test_id("appeal-number").inner_text()
        assert state(resident) == "已提交"
        assert "王网格员" in resident.get_by_test_id("owner").inner_text()
        assert timeline(resident) == ["提交"]
        assert offered(resident) == []  # nothing to rate yet
        resident.goto(base + "/appeals/mine/")
        row = resident.get_by_test_id("appeal-row").filter(has_text=number)
        assert "已提交" in row.inner_text() and row.get_by_role("link", name="去评价").count() == 0

        # ---- 2. the on-duty grid worker accepts it from the inbox (one tap), then hands it on ----
        gw = person("gw1")
        gw.goto(base + "/appeals/inbox/")
        follow(gw, gw.locator(f"[data-testid=inbox-row][data-number='{number}']").get_by_test_id("accept"))
        assert "已受理" in gw.locator(".messages").inner_text()
        open_appeal(gw, base, number)
        assert state(gw) == "办理中"
        assert timeline(gw) == ["提交", "受理"]
        # At grid level the owner may hand on or resolve; handing back has no level below.
        assert offered(gw) == ["act-hand_on", "act-resolve"]
        unfold_and_act(gw, "hand_on", reason="占道经营和油烟涉及城管、市监，网格无法处置，请社区协调")
        assert state(gw) == "已上报"
        assert "李社工" in gw.get_by_test_id("owner").inner_text()
        assert offered(gw) == []  # no longer the grid's
        assert timeline(gw) == ["提交", "受理", "上报上级"]

        # ---- 3. the community accepts it and hands it on to the street ----
        cw = person("cw", DESKTOP)
        cw.goto(base + "/appeals/inbox/")
        follow(cw, cw.locator(f"[data-testid=inbox-row][data-number='{number}']").get_by_test_id("accept"))
        assert "已受理" in cw.locator(".messages").inner_text()
        open_appeal(cw, base, number)
        assert state(cw) == "办理中"
        assert timeline(cw) == ["提交", "受理", "上报上级", "受理"]
        assert offered(cw) == ["act-hand_on", "act-hand_back", "act-resolve", "act-reject", "act-merge"]
        assert "act-whistle" not in offered(cw)  # only the street whistles
        unfold_and_act(cw, "hand_on", reason="需街道吹哨召集城管局和市场监管局联合处置")
        assert state(cw) == "已上报"
        assert "陈干部" in cw.get_by_test_id("owner").inner_text()
        assert timeline(cw) == ["提交", "受理", "上报上级", "受理", "上报上级"]

        # ---- 4. the street officer finds it on the board (待吹哨) and whistles two departments ----
        so.goto(base + "/appeals/board/?section=awaiting_whistle")
        follow(so, so.locator(f"[data-testid=board-row][data-number='{number}']").get_by_test_id("open-appeal"))
        assert offered(so) == ["act-accept", "act-hand_back", "act-reject", "act-merge", "act-whistle"]
        blow_whistle(so, [depts.cg, depts.sj], "占道烧烤兼无证经营，请两部门联合处置")
        assert state(so) == "已派单"
        assert so.get_by_test_id("work-orders").inner_text().count("待报到") == 2
        assert offered(so) == ["act-whistle"]  # while dispatched: only summon one more
        assert timeline(so)[-1] == "吹哨派单"
        assert f"{cg_name}、{sj_name}" in so.get_by_test_id("event").last.inner_text()

        open_appeal(resident, base, number)
        assert state(resident) == "已派单" and offered(resident) == []
        assert len(timeline(resident)) == 6

        # ---- 5. both departments report for duty and submit their results (each on a phone) ----
        h_cg, h_sj = person("h_cg"), person("h_sj")
        assert work_the_order(h_cg, base, number, depts.cg, "已取缔占道烧烤摊") == "已派单"  # one left
        assert work_the_order(h_sj, base, number, depts.sj, "已查处无证经营") == "已办结"  # the last one resolves it

        # ---- 6. the resident sees the result and, now only, the rating form; rates unsatisfied ----
        open_appeal(resident, base, number)
        assert state(resident) == "已办结"
        assert offered(resident) == ["act-rate"]
        assert timeline(resident)[6:] == ["部门报到", "部门提交办理结果", "部门报到", "部门提交办理结果", "工单全部办结"]
        resident.goto(base + "/appeals/mine/")
        follow(resident, resident.get_by_test_id("appeal-row").filter(has_text=number).get_by_role("link", name="去评价"))
        open_appeal(so, base, number)
        assert offered(so) == []  # only the reporter rates
        rate(resident, resolved="0", satisfaction="unsatisfied", comment="过了两天烧烤摊又回来了，晚上还是很吵")
        assert state(resident) == "重新办理"
        assert "未解决 · 不满意" in resident.get_by_test_id("rating").inner_text()
        assert offered(resident) == []
        assert timeline(resident)[-1] == "评价" and len(timeline(resident)) == 12

        # ---- 7. redo: the reopened appeal stays with the street (workflow.py). The page offers the
        # officer 受理 (handle it himself) or 吹哨派单 again; he whistles 城管局 again, a new round. ----
        so.goto(base + "/appeals/board/?section=awaiting_whistle")
        follow(so, so.locator(f"[data-testid=board-row][data-number='{number}']").get_by_test_id("open-appeal"))
        assert state(so) == "重新办理"
        assert offered(so) == ["act-accept", "act-whistle"]
        blow_whistle(so, [depts.cg], "居民反映烧烤摊回潮，请城管局重新处置并建立长效巡查")
        assert state(so) == "已派单"
        orders = so.get_by_test_id("work-order-row")
        assert orders.count() == 3
        assert orders.filter(has_text="（重办前）").count() == 2
        assert cg_name in orders.filter(has_not_text="（重办前）").inner_text()
        assert "待报到" in orders.filter(has_not_text="（重办前）").inner_text()

        assert work_the_order(h_cg, base, number, depts.cg, "已没收烧烤设备，每晚安排队员巡查") == "已办结"

        # ---- 8. the resident rates again: satisfied, final ----
        resident.goto(base + "/appeals/mine/")
        follow(resident, resident.get_by_test_id("appeal-row").filter(has_text=number).get_by_role("link", name="去评价"))
        assert state(resident) == "已办结" and offered(resident) == ["act-rate"]
        rate(resident, resolved="1", satisfaction="satisfied", comment="烧烤摊没了，晚上安静了，谢谢")
        assert state(resident) == "已评价"
        assert "已解决 · 满意" in resident.get_by_test_id("rating").inner_text()
        assert offered(resident) == []  # the second result is final
        events = timeline(resident)
        assert events[12:] == ["吹哨派单", "部门报到", "部门提交办理结果", "工单全部办结", "评价"]
        assert len(events) == 17
        resident.goto(base + "/appeals/mine/")
        row = resident.get_by_test_id("appeal-row").filter(has_text=number)
        assert "已评价" in row.inner_text() and row.get_by_role("link", name="去评价").count() == 0
        open_appeal(so, base, number)
        assert timeline(so) == events  # the street reads the same timeline (no department ratings yet)
        assert offered(so) == ["act-close"]

        # ---- 9. the KPIs after: the page and the API ----
        after_page, after_api = kpi_page(so, base, query), kpi_api(so, base, query)
        assert delta(after_page["total"], before_page["total"], APPEAL_COLUMNS) == {
            "submitted": 1, "accepted": 1, "resolved": 2, "rated": 1, "overdue": 0, "bounces": 0,
            "handed_on": 2, "reopened": 1}
        community = city.tree["beining"].name
        assert delta(after_page["children"][community], before_page["children"][community], APPEAL_COLUMNS) == \
            delta(after_page["total"], before_page["total"], APPEAL_COLUMNS)  # all of it in 北宁社区
        # Before: no ratings at all; after: one appeal rated, its final rating satisfied and solved (the
        # first, unsatisfied rating was replaced by the final one: issue 14).
        assert before_page["rates"]["satisfaction_rate"] == "—" and after_page["rates"]["satisfaction_rate"] == "100.0%"
        assert after_page["rates"]["resolution_rate"] == "100.0%"
        assert before_page["rates"]["response_rate"] == "100.0%" == after_page["rates"]["response_rate"]
        no_change = {"returned": 0, "wo_overdue": 0, "wo_rated": 0}
        assert delta(after_page["departments"][cg_name], before_page["departments"][cg_name], DEPT_COLUMNS) == {
            "summoned": 2, "reported": 2, "wo_resolved": 2, **no_change}  # first round and redo
        assert after_page["departments"][sj_name] == {"summoned": 1, "reported": 1, "wo_resolved": 1, **no_change}

        # The API in the same browser session says the same, and the counters the table leaves out.
        assert after_page["total"] == {c: after_api["totals"][c] for c in APPEAL_COLUMNS}
        assert delta(after_api["totals"], before_api["totals"], kpi.APPEAL_COUNTERS) == {
            **dict.fromkeys(kpi.APPEAL_COUNTERS, 0),
            "submitted": 1, "accepted": 1, "accepted_on_time": 1, "resolved": 2, "resolved_on_time": 2,
            "rated": 1, "satisfied": 1, "reporter_resolved": 1, "reopened": 1, "handed_on": 2}
        assert after_api["totals"]["satisfaction_rate"] == 1.0 and after_api["totals"]["resolution_rate"] == 1.0
        wo_counters = ("summoned", "reported", "reported_on_time", "wo_resolved", "wo_resolved_on_time", "returned",
                       "cancelled", "wo_overdue", "wo_rated")
        assert delta(dept(after_api, cg_name), dept(before_api, cg_name), wo_counters) == {
            **dict.fromkeys(wo_counters, 0), "summoned": 2, "reported": 2, "reported_on_time": 2, "wo_resolved": 2,
            "wo_resolved_on_time": 2}
        assert delta(dept(after_api, sj_name), dept(before_api, sj_name), wo_counters) == {
            **dict.fromkeys(wo_counters, 0), "summoned": 1, "reported": 1, "reported_on_time": 1, "wo_resolved": 1,
            "wo_resolved_on_time": 1}
        assert {d["name"]: {c: d[c] for c in DEPT_COLUMNS} for d in after_api["departments"]} == \
            after_page["departments"]
        assert dept(after_api, cg_name)["wo_resolve_rate"] == 0.6667  # 2 of 3: the background order is still open

        # The number behind 重新办理 opens the list with exactly this appeal; behind 办结次数 it counts twice.
        follow(so, so.get_by_test_id("total-reopened"))
        assert so.get_by_test_id("kpi-list-row").evaluate_all("rs => rs.map(r => r.dataset.number)") == [number]
        so.go_back()
        follow(so, so.get_by_test_id("total-resolved"))
        assert so.locator(f"[data-testid=kpi-list-row][data-number='{number}'] td").last.inner_text() == "2"
    finally:
        for pg in pages:
            pg.context.close()

    # ---- cross-checks in the database ----
    a = Appeal.objects.get(number=number)
    assert (a.state, a.reporter.username, a.grid_id) == ("rated", "jumin", city.micros[0].id)
    assert (a.handon_count, a.bounce_count, a.reopen_count, a.satisfaction, a.rating_resolved) == (
        2, 0, 1, "satisfied", True)
    assert list(a.events.order_by("id").values_list("action", flat=True)) == [
        "submit", "accept", "hand_on", "accept", "hand_on", "whistle",
        "summons_report", "summons_resolve", "summons_report", "summons_resolve", "orders_resolved", "rate",
        "whistle", "summons_report", "summons_resolve", "orders_resolved", "rate"]
    assert sorted(WhistleSummons.objects.filter(appeal=a).values_list("assignee__name", "round", "state")) == sorted([
        (cg_name, 0, "resolved"), (sj_name, 0, "resolved"), (cg_name, 1, "resolved")])
    assert AppealPhoto.objects.filter(appeal=a, work_order__isnull=False).count() == 3
    # The live rollups are what a rebuild from the timeline gives.
    start, end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    live = kpi.breakdown(city.so, tree["street"].code, start, end)
    assert live["totals"] == after_api["totals"] and live["departments"] == after_api["departments"]
    kpi.rebuild(start, end)
    rebuilt = kpi.breakdown(city.so, tree["street"].code, start, end)
    assert rebuilt["totals"] == live["totals"] and rebuilt["departments"] == live["departments"]
