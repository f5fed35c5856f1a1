"""In real headless Chromium: a resident makes a micro-wish, it shows on the wish wall, a party member
claims it, accepts, finishes it, and the resident rates it."""

import pytest

from gongzhi.lists.models import Need
from tests.browser import login
from tests.lists.conftest import soon

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_micro_wish_from_wall_to_rating(page, browser, live_server, city):
    base = live_server.url
    login(page, base, "jumin")
    page.goto(base + "/lists/needs/new/?kind=micro_wish")
    page.fill("#id_title", "想要一本新华字典")
    page.fill("#id_beneficiary", "小明")
    page.fill("#id_due_on", soon(10).isoformat())
    page.select_option("#id_skill", "goods")
    page.get_by_test_id("need-submit").click()
    page.get_by_test_id("need-state").wait_for()
    assert page.get_by_test_id("need-state").inner_text() == "待认领"
    need = Need.objects.get()
    assert (need.kind, need.place, need.requester.username) == ("micro_wish", city.bn, "jumin")

    member = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()  # a phone
    try:
        member.goto(base + "/wishes/")
        card = member.get_by_test_id("wish-card").filter(has_text="想要一本新华字典")
        assert "小明" in card.inner_text() and "北宁社区" in card.inner_text()
        assert "李居民" not in member.content()
        login(member, base, "dangyuan")
        member.goto(base + "/wishes/")
        member.get_by_test_id("wish-card").filter(has_text="想要一本新华字典").get_by_role("link").click()
        member.get_by_test_id("act-claim").click()
        member.get_by_test_id("project-state").wait_for()
        assert member.get_by_test_id("project-state").inner_text() == "已认领"
        member.fill("textarea[name=plan]", "周六上午送到家")
        member.get_by_test_id("act-accept").click()
        member.wait_for_function("document.querySelector('[data-testid=project-state]').textContent === '实施中'")
        member.get_by_test_id("done-served").fill("1")
        member.get_by_test_id("done-hours").fill("1.5")
        member.get_by_test_id("done-summary").fill("字典已送到，小明很开心")
        member.get_by_test_id("act-done").click()
        member.wait_for_function("document.querySelector('[data-testid=project-state]').textContent === '已完成'")
        assert member.get_by_test_id("project-hours").inner_text() == "1.5"
    finally:
        member.context.close()

    page.goto(base + f"/lists/needs/{need.number}/")
    assert page.get_by_test_id("need-state").inner_text() == "已完成"
    page.check("input[name=rating][value='5']")
    page.fill("textarea[name=comment]", "谢谢党员同志")
    page.get_by_test_id("act-rate").click()
    page.get_by_test_id("need-rating").wait_for()
    assert "5 ★" in page.get_by_test_id("need-rating").inner_text()
    need.refresh_from_db()
    assert (need.state, need.rating) == ("rated", 5)
    page.goto(base + "/wishes/")
    assert "已圆梦" in page.get_by_test_id("wish-card").filter(has_text="想要一本新华字典").inner_text()
