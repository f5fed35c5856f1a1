"""In real headless Chromium: a resident reports by clicking the map; the grid worker accepts it from the inbox."""

import pytest

from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import IN_GRID
from tests.browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def click_map_at(page, lon, lat):
    """A real mouse click on the map where (lon, lat) is drawn."""
    page.wait_for_function("document.getElementById('pick-map').dataset.ready === '1'")
    x, y = page.evaluate("([lat, lon]) => { const p = window.gzAppealMap.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; }", [lat, lon])
    box = page.locator("#pick-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_resident_reports_on_the_map_and_the_grid_worker_accepts(page, browser, live_server, city):
    base = live_server.url
    login(page, base, "jumin")
    page.goto(base + "/appeals/new/")
    page.select_option("select[name=category]", "facility_repair")
    page.fill("input[name=title]", "路灯不亮")
    page.fill("textarea[name=text]", "北宁街 12 号门口的路灯坏了一周，晚上<很黑>。")
    click_map_at(page, *IN_GRID)
    page.wait_for_function("document.getElementById('pick-status').textContent.includes('已选择位置')")
    assert city.micros[0].name in page.get_by_test_id("pick-status").inner_text()
    lon = float(page.input_value("#id_lon"))
    lat = float(page.input_value("#id_lat"))
    assert abs(lon - IN_GRID[0]) < 1e-4 and abs(lat - IN_GRID[1]) < 1e-4
    page.get_by_test_id("submit-appeal").click()
    page.get_by_test_id("appeal-number").wait_for()
    number = page.get_by_test_id("appeal-number").inner_text()
    assert page.get_by_test_id("appeal-state").inner_text() == "已提交"
    assert "晚上<很黑>。" in page.get_by_test_id("appeal-text").inner_text()
    assert "王网格员" in page.get_by_test_id("owner").inner_text()
    a = Appeal.objects.get(number=number)
    assert (a.grid_id, a.reporter.username) == (city.micros[0].id, "jumin")

    worker = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()  # a phone
    try:
        login(worker, base, "gw1")
        worker.goto(base + "/appeals/inbox/")
        row = worker.locator(f"[data-testid=inbox-row][data-number={number}]")
        assert "路灯不亮" in row.inner_text()
        row.get_by_test_id("accept").click()
        worker.wait_for_url(base + "/appeals/inbox/")
        assert "已受理" in worker.locator(".messages").inner_text()
        worker.goto(base + f"/appeals/{number}/")
        assert worker.get_by_test_id("appeal-state").inner_text() == "办理中"
        assert worker.get_by_test_id("act-resolve").is_visible()
    finally:
        worker.context.close()
    a.refresh_from_db()
    assert (a.state, a.owner.username) == ("accepted", "gw1")


def test_a_submit_queued_by_an_app_shows_on_my_appeals_until_the_worker_makes_it_an_appeal(page, live_server, city):
    """An app posts for the resident with Prefer: respond-async; the resident's page shows it waiting,
    then, once the worker has run, as an appeal with its number."""
    import json

    from django.test import Client

    from gongzhi.appeals import intake
    from tests.appeals.conftest import bearer

    r = Client().post("/api/v1/appeals", json.dumps({"category": "noise", "title": "广场舞音响太吵", "text": "每晚九点后仍很吵",
                                                     "lon": IN_GRID[0], "lat": IN_GRID[1]}),
                      content_type="application/json", HTTP_PREFER="respond-async", **bearer(city.jumin))
    assert r.status_code == 202
    base = live_server.url
    login(page, base, "jumin")
    page.goto(base + "/appeals/mine/")
    row = page.get_by_test_id("intake-row")
    assert "广场舞音响太吵" in row.inner_text() and "受理中" in row.inner_text()
    assert page.get_by_test_id("appeal-row").count() == 0
    assert intake.drain() == (1, 0)
    page.reload()
    assert page.get_by_test_id("intake-row").count() == 0
    number = Appeal.objects.get().number
    page.get_by_role("link", name=number).click()
    page.get_by_test_id("appeal-number").wait_for()
    assert page.get_by_test_id("appeal-number").inner_text() == number
    assert "王网格员" in page.get_by_test_id("owner").inner_text()
