"""In real Chromium, desktop and phone: the matching board shows a distance (or why none) on each
pair, links needs and resources, and offers unmatched needs a dispatch action that opens the form."""

import pytest

from gongzhi.lists import services
from tests.lists import test_matching_service as base
from tests.lists.conftest import soon
from tests.lists.test_e2e import login

m = base.m
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_matching_board_distances_links_and_manual_dispatch(browser, live_server, m, viewport):
    c = m.city
    # A need typed without a point: measured from its community's centre, and said so.
    fix = services.need_create(actor=c.jumin, title="楼道灯坏了", skill="repair", due_on=soon(), place=c.bn)
    lonely = services.need_create(actor=c.jumin, title="想咨询遗产问题", skill="legal", due_on=soon(), place=c.bn)
    url = live_server.url
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    try:
        page = ctx.new_page()
        page.set_default_timeout(15000)
        login(page, url, "cw")
        page.goto(url + "/lists/board/")
        page.click("[data-testid=run-matching]")
        row = page.locator(f"[data-testid=pair][data-number='{fix.number}']")
        row.wait_for()
        reason = row.locator("[data-testid=pair-reason]").inner_text()
        assert "距离约 " in reason and "需求按所在社区中心" in reason and "距离未知" not in reason
        page.screenshot(path=f"/tmp/counts_matching_{viewport['width']}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
        assert row.get_by_test_id("resource-link").count() == 1
        gone = page.locator(f"[data-testid=unmatched-need][data-number='{lonely.number}']")
        gone.get_by_test_id("manual-dispatch").click()
        page.wait_for_url(f"**/lists/needs/{lonely.number}/#act-dispatch")
        assert page.get_by_test_id("act-dispatch").is_visible()
    finally:
        ctx.close()
