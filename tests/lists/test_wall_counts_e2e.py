"""In real Chromium, desktop and phone: the wish wall counts the wishes that can still be taken and
offers 查看 / 认领 on those only (issue 14: it said "还有 11 个心愿等待认领" when 2 waited)."""

import pytest

from gongzhi.lists import services
from tests.lists.conftest import wish
from tests.lists.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_the_wall_count_and_claim_links_in_chromium(browser, live_server, city, viewport):
    waiting = [wish(city, title=f"等待认领的心愿{i}") for i in range(2)]
    taken = wish(city, title="已被认领的心愿")
    services.need_claim(actor=city.dangyuan2, need=taken)
    sent = wish(city, title="已派单的心愿")
    services.need_dispatch(actor=city.cw, need=sent, taker_organization=city.unit)
    base = live_server.url
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    try:
        page = ctx.new_page()
        login(page, base, "dangyuan")
        page.goto(base + "/wishes/")
        assert "还有 2 个心愿等待认领" in page.inner_text("main")
        cards = page.get_by_test_id("wish-card")
        assert cards.count() == 4
        offered = {cards.nth(i).locator("h3").inner_text() for i in range(4)
                   if cards.nth(i).get_by_role("link", name="查看 / 认领").count()}
        assert offered == {n.title for n in waiting}
        # The page fits the phone: no sideways scroll.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=f"/tmp/counts_wall_{viewport['width']}.png", full_page=True)
    finally:
        ctx.close()
