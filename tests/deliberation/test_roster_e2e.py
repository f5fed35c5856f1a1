"""In real headless Chromium: a community worker generates and publishes part of the year's chair
roster; one unit's liaison asks to swap months on a phone, the other unit's liaison agrees; the
Excel ledger downloads."""

import datetime as dt

import pytest

from gongzhi.deliberation.models import ChairTerm, TermSource
from tests.browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
YEAR = dt.date.today().year + 1


def test_roster_generate_publish_swap_and_export(browser, live_server, world):
    base, w = live_server.url, world
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = desk.new_page()
    page.set_default_timeout(15000)
    login(page, base, "cw")
    page.click("header nav summary:has-text('议事')")
    page.click("header nav a[href='/deliberation/']")
    page.click(f"a[href='/deliberation/committees/{w.committee.pk}/roster/{dt.date.today().year}/']")
    page.goto(base + f"/deliberation/committees/{w.committee.pk}/roster/{YEAR}/")
    page.click("[data-testid=generate]")
    assert "轮值表已生成" in page.locator(".messages").inner_text()
    units = page.locator("[data-testid=month] [data-testid=unit]").all_inner_texts()
    assert units[:5] == [u.name for u in w.units] and len(units) == 12
    page.select_option("[data-testid=through]", f"{YEAR}-02")
    page.click("[data-testid=publish]")
    assert "已发布 2 个月" in page.locator(".messages").inner_text()
    with page.expect_download() as dl:
        page.click("[data-testid=roster-xlsx]")
    assert dl.value.suggested_filename.endswith(".xlsx")
    desk.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.set_default_timeout(15000)
    login(page, base, "liaison2")  # 民生小学 chairs in March
    page.goto(base + f"/deliberation/committees/{w.committee.pk}/roster/{YEAR}/")
    mine = page.locator(f"[data-month='{YEAR}-03']")
    assert "本单位" in mine.inner_text()
    apr = ChairTerm.objects.get(committee=w.committee, month=dt.date(YEAR, 4, 1))
    page.select_option("[data-testid=swap-other]", str(apr.pk))
    page.fill("input[name=reason]", "三月有上级检查")
    page.click("[data-testid=swap-ask]")
    assert "调换申请已发出" in page.locator(".messages").inner_text()
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    login(page, base, "liaison3")
    page.goto(base + f"/deliberation/committees/{w.committee.pk}/roster/{YEAR}/")
    assert "三月有上级检查" in page.locator("[data-testid=swap]").inner_text()
    page.click("[data-testid=swap-accept]")
    assert "已同意调换" in page.locator(".messages").inner_text()
    assert w.units[3].name in page.locator(f"[data-month='{YEAR}-03']").inner_text()
    assert "协商互换" in page.locator(f"[data-month='{YEAR}-04']").inner_text()
    ctx.close()
    mar = ChairTerm.objects.get(committee=w.committee, month=dt.date(YEAR, 3, 1))
    assert mar.unit_id == w.units[3].pk and mar.source == TermSource.SWAPPED
