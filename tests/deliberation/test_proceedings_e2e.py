"""In real headless Chromium: at a 逢四说事 session a resident signs in with the code on her phone, the
recorder puts her topic on the agenda, records the minutes and a resolution with an action item for a
member unit; the unit's liaison marks it done on his phone; the ledger downloads."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.deliberation import services
from gongzhi.deliberation.models import ActionItem, ActionState, Attendance
from gongzhi.org.models import Person
from tests.browser import login
from tests.pickers import pick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def phone(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                              accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    return ctx, page


def test_session_agenda_sign_in_minutes_resolution_and_done(browser, live_server, world):
    base, w = live_server.url, world
    Person.objects.create(name="张阿姨", registered_community=w.beining, user=w.resident)
    start = timezone.localtime() - dt.timedelta(minutes=15)
    m = services.meeting_create(actor=w.cw, kind="deliberation", form="feng_si", title="逢四说事", starts_at=start,
                                ends_at=start + dt.timedelta(hours=2), place=w.beining.pk, location="议事厅")

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    rec = desk.new_page()
    rec.set_default_timeout(15000)
    login(rec, base, "cw")
    rec.goto(base + f"/deliberation/meetings/{m.pk}/")
    rec.click("[data-testid=show-code]")
    code = rec.locator("[data-testid=code]").inner_text().strip()

    ctx, page = phone(browser)
    login(page, base, "jumin")
    page.click("header nav summary:has-text('议事')")
    page.click("header nav a[href='/deliberation/sign-in/']")
    page.fill("[data-testid=code]", code)
    page.click("[data-testid=sign-in]")
    assert "签到成功：逢四说事" in page.locator("[data-testid=result]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ctx.close()

    rec.fill("[data-testid=agenda-title]", "3 号楼电动车乱停放，希望增设车棚")
    rec.fill("[data-testid=agenda-raised-by]", "张阿姨")
    rec.click("[data-testid=agenda-add]")
    assert "增设车棚" in rec.locator("[data-testid=agenda]").inner_text()
    rec.reload()
    assert "已签到 1 人" in rec.content() and "张阿姨" in rec.locator("[data-testid=attendance]").inner_text()
    rec.fill("[data-testid=minutes-text]", "居民反映 3 号楼电动车乱停放。议定：由物业公司选址增设非机动车棚。")
    rec.click("[data-testid=minutes-save]")
    assert "会议纪要已保存" in rec.locator(".messages").inner_text()
    assert "已召开" in rec.locator("[data-testid=state]").inner_text()
    rec.fill("[data-testid=resolution-text]", "在 3 号楼旁增设非机动车棚")
    rec.fill("[data-testid=action-title]", "选址并报价")
    pick(rec.locator("select[name=owner_org]"), "物业", "某物业公司")
    rec.fill("[data-testid=due-on]", (timezone.localdate() + dt.timedelta(days=14)).isoformat())
    rec.click("[data-testid=resolution-add]")
    assert "决议已登记" in rec.locator(".messages").inner_text()
    assert "选址并报价" in rec.locator("[data-testid=action]").inner_text()
    desk.close()

    ctx, page = phone(browser)
    login(page, base, "liaison3")  # 某物业公司's liaison
    page.goto(base + "/deliberation/actions/")
    row = page.locator("[data-testid=action-row]", has_text="选址并报价")
    row.locator("[data-testid=done-note]").fill("已选定 3 号楼东侧，报价 1.2 万元")
    row.locator("[data-testid=done]").click()
    assert "督办事项已办结" in page.locator(".messages").inner_text()
    with page.expect_download() as dl:
        page.goto(base + "/deliberation/actions/?state=all")
        page.click("text=导出台账")
    assert dl.value.suggested_filename.endswith(".xlsx")
    ctx.close()
    a = ActionItem.objects.get()
    assert a.state == ActionState.DONE and "东侧" in a.done_note
    assert Attendance.objects.filter(meeting=m, user=w.resident).count() == 1
