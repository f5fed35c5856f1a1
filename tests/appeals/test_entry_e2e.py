"""In real headless Chromium: a resident reports on a phone (grid name live, photo preview), a
community worker enters a hotline call, and a grid worker on patrol uses the phone's location."""

import pytest

from gongzhi.appeals.models import Appeal
from gongzhi.core import pii
from tests.appeals.conftest import IN_GRID, JPEG, NOT_AN_IMAGE
from tests.appeals.test_e2e import click_map_at, login
from tests.conftest import _wait_without_eval

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    # Polled from here, as the shared `page` fixture does: the page's CSP forbids eval-based polling.
    pg.wait_for_function = lambda expression, arg=None, timeout=None, polling=None: _wait_without_eval(
        pg, expression, arg, timeout, polling)
    yield pg
    ctx.close()


def _status(page, text):
    page.wait_for_function("(t) => document.getElementById('pick-status').textContent.includes(t)", arg=text)
    return page.get_by_test_id("pick-status").inner_text()


def test_resident_reports_on_a_phone_sees_the_grid_and_a_photo_preview(phone, live_server, city):
    base = live_server.url
    login(phone, base, "jumin")
    phone.goto(base + "/appeals/new/")
    # One column: the map (the location step) above the text, both as wide as the screen; thumb-sized buttons.
    text, where = phone.locator("textarea[name=text]").bounding_box(), phone.locator("#pick-map").bounding_box()
    assert where["y"] < text["y"] and text["width"] > 330 and where["width"] > 330
    assert phone.get_by_test_id("submit-appeal").bounding_box()["height"] >= 44
    assert phone.get_by_test_id("use-my-location").bounding_box()["height"] >= 44
    assert phone.evaluate("() => { const s = document.querySelector('.appeal-page'); return s.scrollWidth <= s.clientWidth; }")

    phone.select_option("select[name=category]", "facility_repair")
    phone.fill("textarea[name=text]", "北宁街 12 号门口的路灯坏了一周。")
    # Off every grid first: the clear message before submitting.
    phone.wait_for_function("document.getElementById('pick-map').dataset.ready === '1'")
    phone.evaluate("() => window.gzAppealMap.setView([22.50, 108.50], 15, {animate: false})")
    phone.locator("#pick-map").scroll_into_view_if_needed()
    box = phone.locator("#pick-map").bounding_box()
    phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert "不在任何网格内" in _status(phone, "不在任何网格内")
    phone.evaluate("([lat, lon]) => window.gzAppealMap.setView([lat, lon], 15, {animate: false})", [IN_GRID[1], IN_GRID[0]])
    click_map_at(phone, *IN_GRID)
    assert f"所属网格：{city.micros[0].name}" in _status(phone, "所属网格：")

    photos = phone.locator("input[name=photos]")
    photos.set_input_files([{"name": "fake.jpg", "mimeType": "text/html", "buffer": NOT_AN_IMAGE}])
    assert "「fake.jpg」不是 JPEG、PNG 或 WebP 图片" in phone.get_by_test_id("photo-problems").inner_text()
    photos.set_input_files([{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    phone.get_by_test_id("photo-previews").locator("img").wait_for()
    assert "lamp.jpg" in phone.get_by_test_id("photo-previews").inner_text()
    assert phone.get_by_test_id("photo-problems").is_hidden()

    phone.get_by_test_id("submit-appeal").click()
    phone.get_by_test_id("appeal-number").wait_for()
    a = Appeal.objects.get(number=phone.get_by_test_id("appeal-number").inner_text())
    assert (a.grid_id, a.reporter.username, a.photos.count()) == (city.micros[0].id, "jumin", 1)
    assert phone.locator(".photos img").count() >= 1  # the photo shows on the appeal (and its timeline)


def test_community_worker_enters_a_hotline_call_in_the_browser(page, live_server, city):
    base = live_server.url
    login(page, base, "cw")
    page.locator("header nav summary", has_text="诉求").click()  # the 诉求 menu
    page.get_by_role("navigation").get_by_role("link", name="代录诉求").click()
    page.wait_for_url(base + "/appeals/entry/")
    assert page.locator("input[name=source][value=hotline]").is_checked()
    assert page.get_by_test_id("assisted-fields").is_visible()
    page.check("input[name=source][value=patrol]")  # patrol: the worker is the reporter, no caller
    assert page.get_by_test_id("assisted-fields").is_hidden()
    page.check("input[name=source][value=hotline]")
    page.fill("input[name=reporter_name]", "张大爷")
    page.fill("input[name=reporter_phone]", "13812345678")
    page.select_option("select[name=category]", "noise")
    page.fill("textarea[name=text]", "来电反映：北宁街 8 号烧烤店营业到凌晨两点。")
    page.locator("#pick-map").scroll_into_view_if_needed()
    click_map_at(page, *IN_GRID)
    _status(page, "所属网格：")
    page.get_by_test_id("submit-appeal").click()  # consent not ticked yet
    assert "代为录入须先征得反映人同意" in page.get_by_test_id("field-error").inner_text()
    assert not Appeal.objects.exists()
    page.check("input[name=consent_recorded]")
    page.get_by_test_id("submit-appeal").dblclick()  # an impatient double click: still one appeal
    page.get_by_test_id("appeal-number").wait_for()
    number = page.get_by_test_id("appeal-number").inner_text()
    assert "138****5678" in page.get_by_test_id("reporter").inner_text()
    a = Appeal.objects.get()
    assert (a.number, a.source, a.owner, pii.decrypt(a.reporter_phone_enc)) == (number, "hotline", city.gw1,
                                                                                 "13812345678")
    page.get_by_test_id("continue-entry").click()
    page.wait_for_url(base + "/appeals/entry/?source=hotline")
    row = page.locator(f"[data-testid=recent-row][data-number={number}]")
    assert "138****5678" in row.inner_text()
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("回访核实")
    row.get_by_test_id("reveal").click()
    assert "13812345678" in page.get_by_test_id("revealed").inner_text()


def test_patrol_on_a_phone_fills_the_point_from_the_location(browser, live_server, city):
    lon, lat = IN_GRID
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True,
                              geolocation={"longitude": lon, "latitude": lat, "accuracy": 10})
    ctx.grant_permissions(["geolocation"])
    page = ctx.new_page()
    page.set_default_timeout(15000)
    try:
        base = live_server.url
        login(page, base, "gw2")
        page.goto(base + "/appeals/entry/")
        assert page.locator("input[name=source][value=patrol]").is_checked()
        assert page.get_by_test_id("assisted-fields").is_hidden()
        page.select_option("select[name=category]", "facility_repair")
        page.fill("textarea[name=text]", "巡查发现：路灯杆倾斜。")
        page.get_by_test_id("use-my-location").click()
        assert f"所属网格：{city.micros[0].name}" in _status(page, "所属网格：")
        assert abs(float(page.input_value("#id_lon")) - lon) < 1e-6
        assert abs(float(page.input_value("#id_lat")) - lat) < 1e-6
        page.get_by_test_id("submit-appeal").click()
        page.get_by_test_id("appeal-number").wait_for()
        a = Appeal.objects.get()
        assert (a.source, a.reporter, a.owner, a.grid) == ("patrol", city.gw2, city.gw1, city.micros[0])
    finally:
        ctx.close()


def test_a_denied_location_says_so(phone, live_server, city):
    login(phone, live_server.url, "jumin")
    phone.goto(live_server.url + "/appeals/new/")
    phone.get_by_test_id("use-my-location").click()
    assert "浏览器未允许定位" in _status(phone, "浏览器未允许定位")
    assert phone.input_value("#id_lon") == ""
