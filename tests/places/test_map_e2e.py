"""In real Chromium, phone (390×844) and desktop (1366×900): the maps open on the user's own
community (not the whole district), name communities, grids and places where the names fit, and
the place search finds 大修厂小区 by name or initials and, on the appeal form, sets the location."""

import pytest
from django.core.management import call_command

from gongzhi.places.models import GridLevel, PlaceKind
from gongzhi.places.services import landmark_create
from tests.factories import PASSWORD, grid, place, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
COMPOUND = (108.3215, 22.8215)


def tiling(community, x0, y0, size, prefix):
    """A community grid split into 3×3 micro grids (under one area grid), named 「prefix1」…「prefix9」."""
    top = grid(community, GridLevel.COMMUNITY, x0, y0, x0 + size, y0 + size, name=community.name)
    area = grid(community, GridLevel.AREA, x0, y0, x0 + size, y0 + size, parent=top, name=prefix + "片区")
    step = size / 3
    micros = [grid(community, GridLevel.MICRO, x0 + i * step, y0 + j * step, x0 + (i + 1) * step,
                   y0 + (j + 1) * step, parent=area, name=f"{prefix}{j * 3 + i + 1}")
              for j in range(3) for i in range(3)]
    return top, micros


@pytest.fixture
def district(tree):
    """北宁 (the resident's) and 兴宁 5 km to the east: a district map would show both, far apart."""
    call_command("seed_categories", verbosity=0)
    _top, micros = tiling(tree["beining"], 108.32, 22.82, 0.009, "北宁")
    tiling(tree["xingning"], 108.37, 22.82, 0.009, "兴宁")
    compound = place(PlaceKind.COMPOUND, "450102001004001", "大修厂小区", tree["beining"], lon=COMPOUND[0], lat=COMPOUND[1])
    place(PlaceKind.BUILDING, "450102001004001001", "和安楼", compound, lon=COMPOUND[0] + 0.0003, lat=COMPOUND[1])
    cw = user("cw", ("community_worker", tree["beining"]))
    landmark_create(actor=cw, name="北宁菜市场", community=tree["beining"], lon=108.3265, lat=22.8265)
    user("jumin", ("resident", tree["beining"]), first_name="张居民")
    user("gw", ("grid_worker", micros[0].parent), first_name="王网格员")
    return {"tree": tree, "micros": micros}


def open_as(browser, base, username, size, lang="zh-CN"):
    ctx = browser.new_context(locale=lang, viewport=SIZES[size])
    ctx.add_cookies([{"name": "django_language", "value": "en" if lang == "en" else "zh-hans", "url": base}])
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return ctx, page


def wait(page, expression, timeout=15000):
    import time

    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, expression
        time.sleep(0.05)


def view_of(page, el_id):
    return page.evaluate("""(id) => { const m = (window.gzMaps || [window.gzAppealMap]).find((x) => x.getContainer().id === id);
        const b = m.getBounds(); return {w: b.getWest(), e: b.getEast(), s: b.getSouth(), n: b.getNorth(), z: m.getZoom()}; }""",
                         el_id)


def assert_on_beining(v):
    # The whole of 北宁 (108.32–108.329) is in view, and the view is not the district (兴宁 is 5 km east).
    assert v["w"] <= 108.3201 and v["e"] >= 108.3289 and v["s"] <= 22.8201 and v["n"] >= 22.8289, v
    assert v["e"] - v["w"] < 0.03 and v["e"] < 108.37, v


def labels(page):
    return page.evaluate("Array.from(document.querySelectorAll('.gz-label')).map((e) => e.textContent)")


def search(page, text):
    box = page.get_by_test_id("place-search-box").locator("input")
    box.click()
    box.fill(text)
    option = page.get_by_test_id("place-option").first
    option.wait_for()
    return option


@pytest.mark.parametrize("size", SIZES)
def test_resident_form_opens_on_their_community_and_finds_the_compound(browser, live_server, district, size):
    ctx, page = open_as(browser, live_server.url, "jumin", size)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/appeals/new/")
    wait(page, "document.getElementById('pick-map').dataset.ready === '1'")
    assert_on_beining(view_of(page, "pick-map"))
    assert page.get_by_test_id("pick-map").get_attribute("data-opened") == "home"
    # The resident's community is outlined; grids are named where the names fit.
    assert page.locator("#pick-map path.gz-home").count() == 1
    wait(page, "document.querySelectorAll('#pick-map .gz-grid').length >= 9")
    assert {"北宁1", "北宁9"} <= set(labels(page))
    page.screenshot(path=f"/tmp/map-form-resident-{size}.png")

    # A tap on a grid on the phone hits it: the grid is many fingers wide.
    m = district["micros"][4]
    box = page.evaluate("""([w, s, e, n]) => { const m = window.gzAppealMap; const a = m.latLngToContainerPoint([n, w]);
        const b = m.latLngToContainerPoint([s, e]); return [b.x - a.x, b.y - a.y]; }""",
                        [m.min_lon, m.min_lat, m.max_lon, m.max_lat])
    assert min(box) >= 44, box

    # Initials find the compound; choosing it flies there and sets the location.
    option = search(page, "dxcxq")
    assert "大修厂小区" in option.inner_text() and "北宁社区" in option.inner_text()
    page.keyboard.press("Enter")
    wait(page, "document.getElementById('pick-status').textContent.includes('北宁1')")
    assert float(page.input_value("#id_lon")) == pytest.approx(COMPOUND[0])
    assert float(page.input_value("#id_lat")) == pytest.approx(COMPOUND[1])
    v = view_of(page, "pick-map")
    assert v["z"] >= 17 and v["w"] < COMPOUND[0] < v["e"] and v["s"] < COMPOUND[1] < v["n"]
    # From zoom 16 the community's compounds and landmarks are named on the map.
    wait(page, "Array.from(document.querySelectorAll('.gz-place')).some((e) => e.textContent === '大修厂小区')")
    page.screenshot(path=f"/tmp/map-form-resident-{size}-found.png")
    option = search(page, "大修厂小区")
    assert option.inner_text().startswith("大修厂小区")
    assert not errors
    ctx.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_grid_worker_map_opens_on_their_grid_and_searches(browser, live_server, district, size, lang):
    ctx, page = open_as(browser, live_server.url, "gw", size, lang)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/map/")
    wait(page, "document.getElementById('map').dataset.ready === '1'")
    assert ("Find a place" if lang == "en" else "搜索地点") in page.get_by_test_id("place-search-box").inner_text()
    assert page.get_by_test_id("grid-map").get_attribute("data-opened") == "home"
    assert_on_beining(view_of(page, "map"))
    wait(page, "document.querySelectorAll('#map .gz-grid').length >= 9")
    page.screenshot(path=f"/tmp/map-grid-worker-{size}-{lang}.png")
    option = search(page, "bncsc")
    assert "北宁菜市场" in option.inner_text()
    page.keyboard.press("Enter")
    wait(page, "Array.from(document.querySelectorAll('#map .gz-place')).some((e) => e.textContent === '北宁菜市场')")
    wait(page, "window.gzMaps[0].getZoom() >= 17")
    v = view_of(page, "map")
    assert v["w"] < 108.3265 < v["e"] and v["s"] < 22.8265 < v["n"]
    wait(page, "Object.keys(window.localStorage).some((k) => k.startsWith('gz.map.view.')"
               " && JSON.parse(window.localStorage[k]).zoom >= 17)")
    # The view is kept: the next visit opens where the user left the map.
    page.goto(live_server.url + "/map/")
    wait(page, "document.getElementById('map').dataset.ready === '1'")
    assert page.get_by_test_id("grid-map").get_attribute("data-opened") == "last"
    assert view_of(page, "map")["z"] >= 17
    page.screenshot(path=f"/tmp/map-grid-worker-{size}-{lang}-found.png")
    assert not errors
    ctx.close()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa0d1b2d70000000049454e44ae426082")


def test_a_configured_tile_server_is_used_with_its_attribution(browser, live_server, district, settings):
    from gongzhi.settings import CONTENT_SECURITY_POLICY, _tile_source

    url = "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
    settings.MAP_TILE_URL, settings.MAP_TILE_ATTRIBUTION = url, "© 示例地图 <b>x</b>"
    policy = {**CONTENT_SECURITY_POLICY, "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"]}}
    policy["DIRECTIVES"]["img-src"] = ["'self'", "data:", "blob:", *_tile_source(url)]
    settings.CONTENT_SECURITY_POLICY = policy
    ctx, page = open_as(browser, live_server.url, "jumin", "phone")
    asked, refused = [], []
    page.route("https://*.tiles.example.cn/**", lambda route: (asked.append(route.request.url),
                                                              route.fulfill(body=PNG, content_type="image/png")))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server.url + "/appeals/new/")
    wait(page, "document.querySelectorAll('#pick-map img.leaflet-tile-loaded').length > 0")
    assert asked and not refused
    attribution = page.locator("#pick-map .leaflet-control-attribution")
    assert "© 示例地图 <b>x</b>" in attribution.inner_text()  # shown as text, never as markup
    ctx.close()


def test_with_no_tile_server_the_map_still_names_places(browser, live_server, district):
    ctx, page = open_as(browser, live_server.url, "jumin", "phone")
    page.goto(live_server.url + "/appeals/new/")
    wait(page, "document.getElementById('pick-map').dataset.ready === '1'")
    assert page.locator("#pick-map img.leaflet-tile").count() == 0
    wait(page, "document.querySelectorAll('#pick-map .gz-label').length >= 9")
    ctx.close()


@pytest.mark.parametrize("size", SIZES)
def test_hotline_entry_finds_the_address_sets_the_location_and_keeps_the_words(browser, live_server, district, size):
    from gongzhi.appeals.models import Appeal

    ctx, page = open_as(browser, live_server.url, "cw", size)
    page.goto(live_server.url + "/appeals/entry/?source=hotline")
    wait(page, "document.getElementById('pick-map').dataset.ready === '1'")
    assert_on_beining(view_of(page, "pick-map"))
    page.fill("input[name=reporter_name]", "张大爷")
    page.check("input[name=consent_recorded]")
    page.select_option("select[name=category]", "facility_repair")
    page.fill("textarea[name=text]", "来电反映：小区门口路灯不亮。")
    search(page, "大修厂")
    page.keyboard.press("Enter")
    wait(page, "document.getElementById('pick-status').textContent.includes('北宁1')")
    assert page.input_value("input[name=address]") == "大修厂小区（北宁社区 · 民生街道）"
    page.fill("input[name=address]", "大修厂小区 3 栋门口")  # the caller's own words win
    page.get_by_test_id("submit-appeal").click()
    page.get_by_test_id("appeal-number").wait_for()
    a = Appeal.objects.get()
    assert (a.address, a.grid, a.source) == ("大修厂小区 3 栋门口", district["micros"][0], "hotline")
    assert (a.lon, a.lat) == pytest.approx(COMPOUND)
    assert page.get_by_test_id("appeal-address").inner_text() == "大修厂小区 3 栋门口"
    ctx.close()


@pytest.mark.parametrize("size", SIZES)
def test_staff_register_a_landmark_on_the_map_and_residents_find_it(browser, live_server, district, size):
    """A community worker names a spot, taps it on the map and saves; without the tap the form says
    so and nothing is saved. The resident's place search then finds it by its initials."""
    from gongzhi.places.models import Landmark

    ctx, page = open_as(browser, live_server.url, "cw", size)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/places/landmarks/")
    wait(page, "document.getElementById('landmark-map').dataset.ready === '1'")
    assert_on_beining(view_of(page, "landmark-map"))
    before = Landmark.objects.count()

    page.fill("input[name=name]", "北宁小学东门")
    page.get_by_test_id("save-landmark").click()  # no point on the map yet
    assert "地图上点出地标的位置" in page.get_by_test_id("form-error").first.inner_text()
    assert Landmark.objects.count() == before
    assert page.input_value("input[name=name]") == "北宁小学东门"  # the words are kept

    wait(page, "document.getElementById('landmark-map').dataset.ready === '1'")
    page.get_by_test_id("landmark-map").scroll_into_view_if_needed()
    box = page.get_by_test_id("landmark-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.get_by_test_id("landmark-point").inner_text().startswith("✓")
    page.get_by_test_id("save-landmark").click()
    page.get_by_test_id("landmark-row").filter(has_text="北宁小学东门").wait_for()
    lm = Landmark.objects.get(name="北宁小学东门")
    assert lm.community == district["tree"]["beining"] and 108.32 < lm.lon < 108.329 and 22.82 < lm.lat < 22.829
    page.screenshot(path=f"/tmp/landmarks-{size}.png")
    assert not errors
    ctx.close()

    ctx, page = open_as(browser, live_server.url, "jumin", size)
    page.goto(live_server.url + "/appeals/new/")
    wait(page, "document.getElementById('pick-map').dataset.ready === '1'")
    assert "北宁小学东门" in search(page, "bnxxdm").inner_text()
    ctx.close()
