"""In real headless Chromium: a photo attached to a form that fails (no location) is still attached
when the page comes back, and the next valid submit stores it with the appeal; on the resident's
phone form (390×844) and on the staff hotline entry form (1366×900). And on the phone, the location
step comes before the text, in the page's order as on the screen."""

import pytest

from gongzhi.appeals.models import Appeal, StagedPhoto
from tests.appeals.conftest import IN_GRID, JPEG
from tests.appeals.test_e2e import click_map_at, login
from tests.conftest import _wait_without_eval

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _page(browser, viewport, locale="zh-CN", phone=False):
    ctx = browser.new_context(locale=locale, viewport=viewport, is_mobile=phone, has_touch=phone)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    pg.wait_for_function = lambda expression, arg=None, timeout=None, polling=None: _wait_without_eval(
        pg, expression, arg, timeout, polling)
    return ctx, pg


def _kept_photo_shown(pg, name):
    """The kept photo's thumbnail has really loaded (the owner's request for it answered 200)."""
    fig = pg.get_by_test_id("staged-photo")
    assert fig.count() == 1 and name in fig.inner_text()
    pg.wait_for_function("() => { const i = document.querySelector('[data-testid=staged-photo] img');"
                         " return i && i.complete && i.naturalWidth > 0; }")
    assert fig.is_visible()
    # The file input itself is empty again (a browser cannot re-fill it): the token carries the photo.
    assert pg.evaluate("() => document.querySelector('input[name=photos]').files.length") == 0


def _fail_then_succeed(pg, base, url, *, fill):
    pg.goto(base + url)
    fill(pg)
    pg.locator("input[name=photos]").set_input_files([{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    pg.get_by_test_id("submit-appeal").click()  # no location yet
    pg.get_by_test_id("form-error").wait_for()
    assert "请在地图上点选问题发生的位置" in pg.get_by_test_id("form-error").inner_text()
    assert not Appeal.objects.exists()
    _kept_photo_shown(pg, "lamp.jpg")
    # The rest of what was typed is still there; now the location, and submit again.
    pg.locator("#pick-map").scroll_into_view_if_needed()
    click_map_at(pg, *IN_GRID)
    pg.wait_for_function("() => document.getElementById('pick-status').textContent.includes('所属网格')")
    pg.get_by_test_id("submit-appeal").click()
    pg.get_by_test_id("appeal-number").wait_for()
    a = Appeal.objects.get(number=pg.get_by_test_id("appeal-number").inner_text())
    assert a.photos.count() == 1 and a.photos.get().content_type == "image/jpeg"
    assert not StagedPhoto.objects.exists()
    # The photo shows on the appeal's page (served by the appeal's own photo view).
    pg.wait_for_function("() => { const i = document.querySelector('.photos img');"
                         " return i && i.complete && i.naturalWidth > 0; }")
    return a


def test_a_resident_on_a_phone_keeps_the_photo_when_the_location_is_missing(browser, live_server, city):
    ctx, pg = _page(browser, PHONE, phone=True)
    try:
        login(pg, live_server.url, "jumin")

        def fill(p):
            p.select_option("select[name=category]", "facility_repair")
            p.fill("textarea[name=text]", "北宁街 12 号门口的路灯坏了一周。")

        a = _fail_then_succeed(pg, live_server.url, "/appeals/new/", fill=fill)
        assert (a.reporter, a.grid, a.text) == (city.jumin, city.micros[0], "北宁街 12 号门口的路灯坏了一周。")
    finally:
        ctx.close()


def test_a_community_worker_keeps_the_photo_of_a_hotline_call_when_the_location_is_missing(
        browser, live_server, city):
    ctx, pg = _page(browser, DESKTOP)
    try:
        login(pg, live_server.url, "cw")

        def fill(p):
            p.check("input[name=source][value=hotline]")
            p.fill("input[name=reporter_name]", "张大爷")
            p.check("input[name=consent_recorded]")
            p.select_option("select[name=category]", "noise")
            p.fill("textarea[name=text]", "来电反映：北宁街 8 号烧烤店营业到凌晨两点。")

        a = _fail_then_succeed(pg, live_server.url, "/appeals/entry/", fill=fill)
        assert (a.source, a.submitted_by, a.reporter) == ("hotline", city.cw, None)
    finally:
        ctx.close()


def test_on_a_phone_the_location_step_comes_before_the_text(browser, live_server, city):
    ctx, pg = _page(browser, PHONE, phone=True)
    try:
        login(pg, live_server.url, "jumin")
        pg.goto(live_server.url + "/appeals/new/")
        boxes = {k: pg.locator(sel).bounding_box() for k, sel in {
            "notice": "[data-testid=public-notice]", "where": "#use-my-location", "map": "#pick-map",
            "category": "select[name=category]", "text": "textarea[name=text]", "photos": "input[name=photos]",
            "submit": "[data-testid=submit-appeal]"}.items()}
        ys = [boxes[k]["y"] for k in ("notice", "where", "map", "category", "text", "photos", "submit")]
        assert ys == sorted(ys), boxes  # on the screen: public notice, location, what, photos, submit
        assert boxes["map"]["width"] > 330 and boxes["text"]["width"] > 330
        # In the page's order too (keyboard and screen reader): the focusable controls as Tab meets them.
        order = pg.evaluate("""() => Array.from(document.querySelectorAll(
            '#appeal-form button, #appeal-form select, #appeal-form textarea, #appeal-form input:not([type=hidden])'))
            .map((e) => e.name || e.id)""")
        assert order.index("use-my-location") < order.index("category") < order.index("text") < order.index("photos")
        # The form says plainly that the description becomes public.
        assert "标题和描述将公开" in pg.get_by_test_id("public-notice").inner_text()
    finally:
        ctx.close()
