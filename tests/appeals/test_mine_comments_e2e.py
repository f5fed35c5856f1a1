"""In real headless Chromium on a phone (390×844): a resident's "my appeals" is a card list, newest
first, with no sideways scroll however long the titles; the resident adds a comment with a photo on
an open appeal and the grid worker sees it in the timeline; the resident reads each step of the
appeal in the notification list, in English when they read English."""

import pytest

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import JPEG, at_street, submit, whistle
from tests.appeals.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG = "小区东门外人行道上的共享单车长期乱停乱放堵塞盲道老人和孩子只能绕到机动车道上通行非常危险请尽快清理并设置停放区"


def _phone(browser, locale="zh-CN"):
    page = browser.new_context(locale=locale, viewport=PHONE).new_page()
    page.set_default_timeout(15000)
    return page


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_my_appeals_is_a_card_list_without_sideways_scroll_newest_first(browser, live_server, city):
    base = live_server.url
    mine = [submit(city.jumin, title=f"{i}号{LONG}"[:100], text=f"第{i}条：{LONG}") for i in range(5)]
    services.appeal_accept(actor=city.gw1, appeal=mine[0])
    phone = _phone(browser)
    try:
        login(phone, base, "jumin")
        phone.goto(base + "/appeals/mine/")
        cards = phone.get_by_test_id("appeal-row")
        assert cards.count() == 5
        numbers = [cards.nth(i).get_attribute("data-number") for i in range(5)]
        assert numbers == [a.number for a in reversed(mine)]  # newest first
        assert _no_sideways_scroll(phone), phone.evaluate("document.scrollingElement.scrollWidth")
        # Nothing is cut off: every card (its title, its state) lies inside the viewport's width.
        for i in range(5):
            for part in ("appeal-row", "appeal-row-title", "appeal-row-state"):
                box = (cards.nth(i) if part == "appeal-row" else cards.nth(i).get_by_test_id(part)).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (part, box)
        phone.screenshot(path="/tmp/inform_mine_phone.png", full_page=True)
    finally:
        phone.context.close()


def test_a_reporter_comment_with_a_photo_reaches_the_staff_timeline(page, browser, live_server, city):
    base = live_server.url
    a = submit(city.jumin, title=LONG[:100])
    phone = _phone(browser)
    try:
        login(phone, base, "jumin")
        phone.goto(base + f"/appeals/{a.number}/")
        phone.get_by_test_id("comment-submit").click()  # empty: the browser's own required check holds it
        assert phone.url == base + f"/appeals/{a.number}/"
        phone.get_by_test_id("comment-text").fill("晚上十一点以后更吵了，附上照片")
        phone.get_by_test_id("comment-photos").set_input_files(
            [{"name": "night.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
        phone.get_by_test_id("comment-submit").click()
        phone.wait_for_url(f"{base}/appeals/{a.number}/#timeline")
        mine = phone.locator("[data-testid=event][data-action=comment]")
        assert "晚上十一点以后更吵了" in mine.inner_text()
        assert _no_sideways_scroll(phone)
    finally:
        phone.context.close()

    login(page, base, "gw1")
    page.goto(base + f"/appeals/{a.number}/")
    seen = page.locator("[data-testid=event][data-action=comment]")
    assert seen.count() == 1
    assert "晚上十一点以后更吵了" in seen.inner_text() and "补充说明" in seen.inner_text()
    assert seen.locator(".photos img").count() == 1
    page.goto(base + "/notifications/")
    assert a.number in page.get_by_test_id("notifications").inner_text()


def test_the_reporter_reads_every_step_in_english(browser, live_server, city, depts):
    base = live_server.url
    a = whistle(city, at_street(city, accept=True), depts.sj)  # the staff work in Chinese
    wo = a.work_orders.get()
    wo = services.summons_report(actor=depts.h_sj, work_order=wo)
    services.summons_resolve(actor=depts.h_sj, work_order=wo, note="已查处")
    a = services.appeal_rate(actor=city.jumin, appeal=Appeal.objects.get(pk=a.pk), resolved=False,
                             satisfaction="unsatisfied")
    a = services.appeal_accept(actor=city.so, appeal=a)
    a = services.appeal_resolve(actor=city.so, appeal=a, note="已再次处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied")
    services.appeal_close(actor=city.cw, appeal=a)

    phone = _phone(browser, locale="en-US")
    try:
        phone.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        login(phone, base, "jumin")
        phone.goto(base + "/notifications/")
        items = phone.get_by_test_id("notification")
        titles = [items.nth(i).get_by_test_id("open-notification").inner_text() for i in range(items.count())]
        # Newest first: closed … accepted; each step once, in English, naming the level and the department.
        assert titles[0].startswith("Your request has been closed"), titles
        assert any(t.startswith("Your request has been reopened") for t in titles)
        assert any(t.startswith("Your request has been completed") for t in titles)
        assert any(t.startswith("The street has summoned departments") for t in titles)
        assert any(t.startswith("Your request has been passed up to the Street level") for t in titles)
        assert any(t.startswith("Your request has been passed up to the Community level") for t in titles)
        assert any(t.startswith("Your request has been accepted") for t in titles)
        text = phone.get_by_test_id("notifications").inner_text()
        assert depts.sj.name in text
        assert not any(w in text for w in ("您反映", "已受理", "已转交", "召集的部门", "办理进展", "办理结果"))
        assert _no_sideways_scroll(phone)
        phone.screenshot(path="/tmp/inform_notes_en_phone.png", full_page=True)
    finally:
        phone.context.close()
