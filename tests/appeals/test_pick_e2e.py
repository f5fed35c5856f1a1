"""In real Chromium, desktop and phone: the street officer finds departments in the whistle form's
picker by pinyin initials and full pinyin, takes them with the keyboard, and the whistle names
them; a community worker dispatches a need to one of two namesakes told apart by their detail line.
No script error and no Content-Security-Policy violation on the way; no sideways scroll on a phone."""

import pytest

from gongzhi.appeals.models import WhistleSummons
from gongzhi.org.models import PartyMembership
from gongzhi.org.services import person_create
from tests.appeals.conftest import at_street
from tests.appeals.test_e2e import login
from tests.pickers import pick, picker_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _watch(pg):
    problems = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    # Script errors and CSP refusals (a missing /favicon.ico is no problem of ours).
    pg.on("console", lambda m: problems.append(m.text)
          if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    return problems


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_whistle_by_pinyin_with_the_keyboard(browser, live_server, city, depts, screen):
    base = live_server.url
    a = at_street(city)
    pg = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[screen]).new_page()
    pg.set_default_timeout(15000)
    problems = _watch(pg)
    try:
        login(pg, base, "so")
        pg.goto(base + f"/appeals/{a.number}/")
        form = pg.get_by_test_id("act-whistle")
        rows = form.get_by_test_id("summons-organization")
        assert rows.count() == 2 and form.locator("select[data-picker] option").count() <= 2
        assert pick(rows.nth(0), "xnqcsglj", "兴宁区城市管理局").startswith("兴宁区城市管理局")
        text = pick(rows.nth(1), "gongdianfenju", "南宁供电局兴宁供电分局")
        assert "国有企业" in text  # the detail line: what and where
        # A third row from "add a row" is a picker too; the other district's department is not offered.
        form.get_by_test_id("add-summons-row").click()
        third = picker_of(rows.nth(2))
        third.locator(".ts-control input").press_sequentially("qingxiu", delay=40)
        third.locator(".ts-dropdown .no-results").wait_for()
        assert third.locator(".ts-dropdown .option").count() == 0
        pg.screenshot(path=f"/tmp/pk/whistle-{screen}.png", full_page=False)
        if screen == "phone":
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        third.locator(".ts-control input").press("Escape")
        form.locator("textarea[name=note]").fill("占道经营影响供电设施")
        form.get_by_test_id("do-whistle").click()
        pg.get_by_test_id("work-orders").wait_for()
        assert pg.get_by_test_id("appeal-state").inner_text() == "已派单"
        orders = pg.get_by_test_id("work-orders").inner_text()
        assert "兴宁区城市管理局" in orders and "南宁供电局兴宁供电分局" in orders
        assert set(WhistleSummons.objects.filter(appeal=a).values_list("assignee_id", flat=True)) == {
            depts.cg.pk, depts.unit.pk}
        assert problems == []
    finally:
        pg.context.close()


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_dispatch_a_need_to_one_of_two_namesakes(browser, live_server, city, depts, screen):
    from gongzhi.lists import services as list_services
    from tests.lists.conftest import soon

    base = live_server.url
    bn = city.tree["beining"]
    twins = []
    for phone, home in (("13800001111", depts.committee), ("13800002222", depts.unit)):
        p = person_create(actor=city.cw, name="何丽", phone=phone, registered_community=bn)
        PartyMembership.objects.create(person=p, home_organization=home)
        twins.append(p)
    need = list_services.need_create(actor=city.cw, kind="micro_wish", title="想要一个新书包", beneficiary="小明",
                                     due_on=soon(), place=bn, category="children", skill="goods")
    pg = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[screen]).new_page()
    pg.set_default_timeout(15000)
    problems = _watch(pg)
    try:
        login(pg, base, "cw")
        pg.goto(base + f"/lists/needs/{need.number}/")
        taker = pg.get_by_test_id("dispatch-taker")
        text = pick(taker, "heli", "何丽", detail="尾号2222")
        assert "南宁供电局兴宁供电分局" in text
        pg.screenshot(path=f"/tmp/pk/dispatch-{screen}.png", full_page=False)
        if screen == "phone":
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        pg.get_by_test_id("act-dispatch").click()
        pg.wait_for_url(base + f"/lists/needs/{need.number}/")
        need.refresh_from_db()
        assert need.state == "dispatched" and need.projects.get().taker_person_id == twins[1].pk
        assert problems == []
    finally:
        pg.context.close()
