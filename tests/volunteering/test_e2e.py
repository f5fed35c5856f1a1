"""In real headless Chromium: a member signs up for a full activity, waits, is promoted when someone
cancels, checks in and out with the code on the check-in page, and sees the hours in the time bank."""

import datetime as dt

import pytest

from gongzhi.volunteering import services
from tests.browser import login

from .conftest import activity, later

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_member_waits_is_promoted_checks_in_and_out_and_sees_time_credits(page, live_server, world):
    base = live_server.url
    a = activity(world, capacity=1, hours="2.5", start_in=dt.timedelta(minutes=5))
    first = services.signup_create(actor=world.m2, activity=a)
    login(page, base, "m1")
    page.goto(base + "/volunteering/activities/")
    page.click(f"a[href='/volunteering/activities/{a.pk}/']")
    page.click("[data-testid=signup]")
    assert page.locator("[data-testid=wait-position]").inner_text() == "候补第 1 位"
    services.signup_cancel(actor=world.m2, signup=first)  # someone cancels: the place goes to m1
    page.reload()
    assert "已报名" in page.locator("[data-testid=my-signup]").inner_text()
    page.goto(base + "/volunteering/checkin/")
    page.fill("[data-testid=code]", a.code.lower())
    page.click("[data-testid=scan]")
    assert "签到成功" in page.locator("[data-testid=result]").inner_text()
    later(a, dt.timedelta(hours=2, minutes=10))  # there from before the start until after the end
    page.fill("[data-testid=code]", a.code)
    page.click("[data-testid=scan]")
    assert "2.5 时间币已存入" in page.locator("[data-testid=result]").inner_text()
    page.goto(base + "/timebank/")
    assert page.locator("[data-testid=balance]").inner_text().strip().startswith("2.5")
    page.goto(base + f"/volunteering/activities/{a.pk}/")
    assert "2.5 时间币已存入时间银行" in page.locator("[data-testid=my-signup]").inner_text()


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_checking_out_seconds_after_checking_in_credits_nothing_and_says_why(browser, live_server, world,
                                                                             viewport):
    base = live_server.url
    a = activity(world)
    services.signup_create(actor=world.m1, activity=a)
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, base, "m1")
        page.goto(base + f"/volunteering/checkin/?code={a.code}")
        page.click("[data-testid=scan]")
        assert "签到成功" in page.locator("[data-testid=result]").inner_text()
        page.click("[data-testid=scan]")
        result = page.locator("[data-testid=result]")
        assert "在场时间不足 15 分钟，本次不计入时间银行" in result.inner_text()
        assert result.get_attribute("class") == "warning"
        assert result.is_visible() and page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.goto(base + "/timebank/")
        assert page.locator("[data-testid=balance]").inner_text().strip().startswith("0")
        page.goto(base + f"/volunteering/activities/{a.pk}/")
        assert "本次未计入时间银行" in page.locator("[data-testid=my-signup]").inner_text()
    finally:
        ctx.close()
