"""In real headless Chromium: a member signs up for a full activity, waits, is promoted when someone
cancels, checks in and out with the code on the check-in page, and sees the hours in the time bank."""

import pytest

from gongzhi.volunteering import services
from tests.factories import PASSWORD

from .conftest import activity

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_member_waits_is_promoted_checks_in_and_out_and_sees_time_credits(page, live_server, world):
    base = live_server.url
    a = activity(world, capacity=1, hours="2.5")
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
    page.fill("[data-testid=code]", a.code)
    page.click("[data-testid=scan]")
    assert "2.5 时间币已存入" in page.locator("[data-testid=result]").inner_text()
    page.goto(base + "/timebank/")
    assert page.locator("[data-testid=balance]").inner_text().strip().startswith("2.5")
    page.goto(base + f"/volunteering/activities/{a.pk}/")
    assert "2.5 时间币已存入时间银行" in page.locator("[data-testid=my-signup]").inner_text()
