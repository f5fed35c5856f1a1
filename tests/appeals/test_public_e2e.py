"""In real headless Chromium, signed out: the public list and map of a community's appeals and one
appeal's public page, on a desktop and a phone, under the Content-Security-Policy, with no sideways
scroll, and a title carrying markup shown as text in the list and in the map's popup."""

import pytest

from gongzhi.appeals import public
from tests.appeals.conftest import submit
from tests.e2e.test_xss_and_csp import assert_clean, watch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS_TITLE = "标题<img src=x onerror=window.__xss=1>"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def appeals(city):
    a = submit(city.jumin, title=XSS_TITLE, text="楼下<b>噪声</b>很大，电话 13812345678", point=(108.3211, 22.8239))
    b = submit(city.jumin, title="路灯不亮", point=(108.3275, 22.8275))
    assert a.grid_id != b.grid_id  # two grids: two markers
    return a, b


def _no_sideways_scroll(page) -> bool:
    wide = page.evaluate("""() => { const w = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1)
          .slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); }""")
    ok = page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert ok, wide
    return ok


@pytest.mark.parametrize("viewport, lang", [("desktop", "zh-hans"), ("phone", "zh-hans"), ("phone", "en")])
def test_a_visitor_browses_the_public_list_map_and_page(browser, live_server, city, appeals, viewport, lang):
    a, b = appeals
    ctx = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport])
    ctx.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page = ctx.new_page()
    page.set_default_timeout(15000)
    try:
        seen = watch(page)
        base = live_server.url
        resp = page.goto(f"{base}/appeals/public/?community={a.community.code}")
        assert resp.status == 200
        items = page.get_by_test_id("public-item")
        assert items.count() == 2
        assert page.get_by_test_id("public-link").all_inner_texts() == ["路灯不亮", XSS_TITLE]  # newest first
        page.wait_for_function("document.getElementById('public-map').dataset.markers === '2'")
        # The map's points are the grid centres; the popup shows the title as text.
        centre = public.grid_centroid(a.grid)
        popup = page.evaluate(
            """([lat, lon]) => { const m = window.gzPublicMap.markers.find((m) => {
                 const p = m.getLatLng(); return Math.abs(p.lat - lat) < 1e-9 && Math.abs(p.lng - lon) < 1e-9; });
               if (!m) return null; m.openPopup(); const el = m.getPopup().getElement();
               return [el.textContent, el.querySelectorAll('img').length]; }""", [centre[1], centre[0]])
        assert popup is not None and XSS_TITLE in popup[0] and popup[1] == 0
        assert "13812345678" not in page.content()
        assert _no_sideways_scroll(page), viewport
        page.wait_for_timeout(300)  # an injected <img src=x> would have failed to load by now
        assert page.locator("#public-map path.leaflet-interactive").count() >= 4  # 2 grids, 2 markers
        assert_clean(page, seen, "/appeals/public/")
        page.screenshot(path=f"/tmp/public-list-{viewport}-{lang}.png", full_page=True)

        page.get_by_test_id("public-link").filter(has_text="标题").click()
        page.wait_for_url(f"{base}/appeals/public/{a.number}/")
        assert page.get_by_test_id("public-title").inner_text() == XSS_TITLE
        assert "138****5678" in page.get_by_test_id("public-text").inner_text()
        page.wait_for_function("document.getElementById('public-map').dataset.markers === '1'")
        assert _no_sideways_scroll(page), viewport
        page.wait_for_timeout(300)
        assert_clean(page, seen, f"/appeals/public/{a.number}/")
        page.screenshot(path=f"/tmp/public-page-{viewport}-{lang}.png", full_page=True)
    finally:
        ctx.close()
