"""In real headless Chromium, on a phone: a community worker sets up 逢四说事 for 北宁社区 with the
searchable picker, cancels one session for a holiday, and the calendar feed the page links to
carries the exception; a resident sees the sessions on the schedule."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar

from gongzhi.deliberation.models import Meeting, MeetingSeries, MeetingState
from tests.browser import login
from tests.pickers import pick

SH = ZoneInfo("Asia/Shanghai")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_set_up_feng_si_cancel_one_and_subscribe(browser, live_server, world):
    base = live_server.url
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    login(page, base, "cw")
    page.goto(base + "/deliberation/meetings/")
    page.click("[data-testid=series-new]")
    pick(page.locator("select[name=place]"), "北宁", "北宁社区")
    first = (dt.date.today() + dt.timedelta(days=1)).isoformat() + "T19:30"
    page.fill("[data-testid=dtstart]", first)
    page.fill("[data-testid=location]", "北宁社区党群服务中心议事厅")
    page.click("[data-testid=save]")
    assert "议事安排已创建" in page.locator(".messages").inner_text()
    assert "每月4日、14日、24日" in page.locator("[data-testid=rule]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    s = MeetingSeries.objects.get()
    target = Meeting.objects.filter(series=s).order_by("starts_at")[1]
    row = page.locator(f"[data-testid=occurrence][data-start='{target.original_start.astimezone(SH):%Y-%m-%dT%H:%M}']")
    row.locator("summary").click()
    row.locator("input[name=reason]").first.fill("节假日")
    row.locator("[data-testid=cancel-one]").click()
    assert "这一次活动已取消" in page.locator(".messages").inner_text()
    target.refresh_from_db()
    assert target.state == MeetingState.CANCELLED
    feed = page.request.get(base + page.locator("[data-testid=feed]").get_attribute("href"))
    cal = Calendar.from_ical(feed.body())
    starts = {e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(
        target.starts_at - dt.timedelta(days=1), target.starts_at + dt.timedelta(days=1))}
    assert target.starts_at not in starts  # calendar apps leave the cancelled session out
    ctx.close()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    login(page, base, "jumin")
    page.click("header nav summary:has-text('议事')")
    page.click("header nav a[href='/deliberation/meetings/']")
    rows = page.locator("[data-testid=meeting-row]")
    assert rows.count() >= 8 and "逢四说事" in rows.first.inner_text()
    assert "已取消" in page.locator("[data-testid=meetings]").inner_text()
    assert page.locator("[data-testid=series-new]").count() == 0
    ctx.close()
