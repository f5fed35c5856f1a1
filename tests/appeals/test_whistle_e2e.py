"""In real headless Chromium: the street whistles two departments on the appeal's page; each
department handler reports for duty and submits a result on a phone; the appeal shows resolved
when the second one does."""

import pytest

from gongzhi.appeals.models import Appeal, AppealPhoto
from tests.appeals.conftest import JPEG, at_street
from tests.appeals.test_e2e import login
from tests.pickers import pick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _department_works_its_order(browser, base, username, number, result):
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    try:
        login(phone, base, username)
        phone.goto(base + "/appeals/workorders/")
        row = phone.locator(f"[data-testid=work-order-row][data-number={number}]")
        assert "待报到" in row.inner_text()
        row.get_by_test_id("report").click()  # one tap
        phone.wait_for_url(base + "/appeals/workorders/")
        assert "已报到" in phone.locator(".messages").inner_text()
        phone.locator(f"[data-testid=work-order-row][data-number={number}]").get_by_test_id("open-work-order").click()
        form = phone.get_by_test_id("wo-act-resolve")
        form.locator("textarea[name=note]").fill(result)
        form.locator("input[name=photos]").set_input_files(
            [{"name": "result.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
        form.get_by_test_id("wo-do-resolve").click()
        phone.get_by_test_id("result").wait_for()
        assert phone.get_by_test_id("work-order-state").inner_text() == "已办结"
        assert result in phone.get_by_test_id("result").inner_text()
        return phone.get_by_test_id("appeal-state").inner_text()
    finally:
        phone.context.close()


def test_street_whistles_two_departments_who_report_and_resolve(page, browser, live_server, city, depts):
    base = live_server.url
    a = at_street(city)
    login(page, base, "so")
    page.goto(base + f"/appeals/{a.number}/")
    form = page.get_by_test_id("act-whistle")
    page.get_by_test_id("add-summons-row").click()  # a third row, left empty: skipped
    orgs = form.get_by_test_id("summons-organization")
    assert orgs.count() == 3
    pick(orgs.nth(0), "xnqcsglj", "兴宁区城市管理局")  # pinyin initials, taken with the keyboard
    pick(orgs.nth(1), "shichangjiandu", "兴宁区市场监督管理局")  # full pinyin
    form.locator("textarea[name=note]").fill("占道烧烤兼无证经营，请两部门联合处置")
    form.get_by_test_id("do-whistle").click()
    page.get_by_test_id("work-orders").wait_for()
    assert page.get_by_test_id("appeal-state").inner_text() == "已派单"
    assert page.locator("[data-testid=work-order-row]").count() == 2
    assert page.get_by_test_id("work-orders").inner_text().count("待报到") == 2

    assert _department_works_its_order(browser, base, "h_cg", a.number, "已取缔占道烧烤摊") == "已派单"
    assert _department_works_its_order(browser, base, "h_sj", a.number, "已查处无证经营") == "已办结"

    page.reload()
    assert page.get_by_test_id("appeal-state").inner_text() == "已办结"
    assert page.get_by_test_id("work-orders").inner_text().count("已办结") == 2
    assert "工单全部办结" in page.get_by_test_id("timeline").inner_text()
    a = Appeal.objects.get(pk=a.pk)
    assert a.state == "resolved" and a.events.filter(action="orders_resolved").count() == 1
    assert AppealPhoto.objects.filter(appeal=a, work_order__isnull=False).count() == 2
