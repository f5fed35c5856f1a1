"""In real headless Chromium: a member sees their time credits and gives some to their son."""

import pytest

from gongzhi.timebank import services
from tests.factories import PASSWORD
from tests.timebank.conftest import credit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_member_sees_credits_and_transfers_to_family(page, live_server, town):
    credit(town.li, 5, "activity:1")
    services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "li")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(base + "/timebank/")
    assert page.get_by_test_id("balance").inner_text() == "5.00"
    assert page.get_by_test_id("statement-row").count() == 1
    form = page.get_by_test_id("transfer-form")
    form.locator("select[name=to_person]").select_option(label="李明（儿子）")
    form.locator("input[name=hours]").fill("-1")
    form.locator("button").click()
    assert page.get_by_test_id("error").inner_text() == "时间币数必须大于 0。"
    form = page.get_by_test_id("transfer-form")
    form.locator("input[name=hours]").fill("2")
    form.locator("input[name=memo]").fill("给孙子买菜")
    form.locator("button").click()
    page.wait_for_url(base + "/timebank/")
    assert "已转赠 2.00 时间币。" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("balance").inner_text() == "3.00"
    first = page.get_by_test_id("statement-row").first
    assert "转赠给家人 李*（给孙子买菜）" in first.inner_text()
    assert first.get_by_test_id("amount").inner_text() == "-2.00"
    assert first.get_by_test_id("balance-after").inner_text() == "3.00"
    assert services.balance(town.son) == 2
