"""In real headless Chromium, on a phone (390×844) and a desktop (1366×900): the grid worker's home is
their desk (counts visible, the overdue item first, its action button works) and the resident's home
shows their own appeals with their status; neither page scrolls sideways."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import submit
from tests.appeals.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [pytest.param({"width": 390, "height": 844}, id="phone"),
             pytest.param({"width": 1366, "height": 900}, id="desktop")]
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def vpage(browser, request):
    ctx = browser.new_context(locale="zh-CN", viewport=request.param)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("vpage", VIEWPORTS, indirect=True)
def test_grid_worker_desk_accepts_the_overdue_appeal_from_home(vpage, live_server, city, tmp_path):
    page, base = vpage, live_server.url
    fresh = submit(city.jumin, title="楼道灯坏了")
    late = submit(city.linju, title="下水道堵塞，污水漫到路面，已经好几天了没有人来处理")
    Appeal.objects.filter(pk=late.pk).update(step_due=timezone.now() - dt.timedelta(hours=26))
    Appeal.objects.filter(pk=fresh.pk).update(step_due=timezone.now() + dt.timedelta(days=3))
    login(page, base, "gw1")
    assert page.get_by_test_id("figure-inbox-new").get_by_test_id("count").inner_text() == "2"
    overdue = page.get_by_test_id("figure-inbox-overdue")
    assert overdue.is_visible() and overdue.get_by_test_id("count").inner_text() == "1"
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(tmp_path / "gw-desk.png"), full_page=True)
    # The count's link opens the list behind it, with as many rows.
    overdue.click()
    page.wait_for_url(base + "/appeals/inbox/?show=overdue")
    assert page.get_by_test_id("inbox-row").count() == 1
    assert page.get_by_test_id("inbox-row").get_attribute("data-number") == late.number
    page.goto(base + "/")
    first = page.get_by_test_id("desk-item").first
    assert first.get_attribute("data-number") == late.number and "已逾期" in first.inner_text()
    first.get_by_test_id("desk-action-accept").click()
    page.wait_for_url(base + "/")
    assert Appeal.objects.get(pk=late.pk).state == "accepted"
    assert "已受理" in page.locator(".messages").inner_text()
    # Accepted (its next step now has its own deadline): the action it needs is to resolve it, on its page.
    item = page.locator(f"[data-testid=desk-item][data-number='{late.number}']")
    item.get_by_test_id("desk-action-resolve").click()
    page.wait_for_url(base + f"/appeals/{late.number}/#act-resolve")
    assert page.get_by_test_id("act-resolve").is_visible()


@pytest.mark.parametrize("vpage", VIEWPORTS, indirect=True)
def test_resident_desk_shows_their_appeals_with_status(vpage, live_server, city, tmp_path):
    page, base = vpage, live_server.url
    submit(city.jumin, title="小区门口路灯不亮")
    done = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin, title="井盖松动"))
    services.appeal_resolve(actor=city.gw1, appeal=done, note="已更换井盖")
    login(page, base, "jumin")
    assert page.get_by_test_id("figure-mine-open").get_by_test_id("count").inner_text() == "1"
    assert page.get_by_test_id("figure-mine-rate").get_by_test_id("count").inner_text() == "1"
    mine = page.get_by_test_id("desk-mine")
    assert "小区门口路灯不亮" in mine.inner_text() and "已提交" in mine.inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(tmp_path / "resident-desk.png"), full_page=True)
    nav = page.locator("header nav")
    assert nav.locator("a[href='/accounts/tokens/']").count() == 0
    assert nav.locator("a[href='/volunteering/reports/']").count() == 0
    page.get_by_test_id("desk-action-rate").click()
    page.wait_for_url(base + f"/appeals/{done.number}/#act-rate")
    assert page.get_by_test_id("act-rate").is_visible()
