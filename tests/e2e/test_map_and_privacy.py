"""In real headless Chromium: the grid map, a grid's staff for a community worker, and no personal
data of others for a resident."""

import pytest

from gongzhi.org.services import person_create, post_assign
from tests.browser import login
from tests.factories import grid_tree, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(tree):
    top, micros = grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    cw = user("cw", ("community_worker", tree["beining"]), first_name="李社工")
    leader = person_create(actor=cw, name="王网格长", phone="13900001111", id_number="11010519491231002X",
                           registered_community=tree["beining"])
    post_assign(actor=cw, person=leader, title="grid_leader", grid=micros[0], starts_on="2026-01-01")
    user("jumin", ("resident", tree["beining"]), first_name="张居民")
    return {"micros": micros, "leader": leader}


def test_community_worker_opens_a_grid_on_the_map_and_sees_its_staff(page, live_server, city):
    login(page, live_server.url, "cw")
    assert "社区工作者" in page.get_by_test_id("who").inner_text()
    page.click("text=网格地图")
    page.wait_for_function("document.getElementById('count').textContent.includes('4')")
    # Click the first micro grid through Leaflet's own layer, as a click on its polygon does.
    code = city["micros"][0].code
    page.evaluate(f"window.gzGridLayer.eachLayer(l => {{ if (l.feature.properties.code === '{code}') l.fire('click'); }})")
    page.get_by_test_id("grid-code").wait_for()
    assert page.get_by_test_id("grid-code").inner_text() == code
    staff = page.get_by_test_id("staff").first.inner_text()
    assert "王网格长" in staff and "139****1111" in staff
    # The registry's people list shows masked data only.
    page.goto(live_server.url + "/org/people/")
    html = page.content()
    assert "王网格长" in html and "139****1111" in html
    assert "13900001111" not in html and "11010519491231002X" not in html


def test_resident_sees_no_personal_data_of_others(page, live_server, city):
    login(page, live_server.url, "jumin")
    nav = page.locator("header nav").inner_text()
    assert "人员" not in nav and "审计日志" not in nav
    page.goto(live_server.url + "/map/")
    page.wait_for_function("document.getElementById('count').textContent.includes('4')")
    code = city["micros"][0].code
    page.evaluate(f"window.gzGridLayer.eachLayer(l => {{ if (l.feature.properties.code === '{code}') l.fire('click'); }})")
    page.get_by_test_id("grid-code").wait_for()
    card = page.locator("#grid-card").inner_text()
    assert "王网格长" not in card and "139" not in card and "王**" in card
    r = page.goto(live_server.url + "/org/people/")
    assert r.status == 403
    assert "王网格长" not in page.content()


def test_language_switch_to_english(page, live_server, city):
    page.goto(live_server.url + "/login/")
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_header_menu_groups_open_one_at_a_time_and_close_on_escape(page, live_server, tree):
    from playwright.sync_api import expect

    user("menu_cw", ("community_worker", tree["beining"]))
    login(page, live_server.url, "menu_cw")
    nav = page.locator("header nav")
    kpi, board = nav.get_by_role("link", name="绩效统计"), nav.get_by_role("link", name="派单台")
    expect(kpi).to_be_hidden()  # folded in the 诉求 menu
    nav.locator("summary", has_text="诉求").click()
    expect(kpi).to_be_visible()
    nav.locator("summary", has_text="清单").click()  # opening another closes the first
    expect(board).to_be_visible()
    expect(kpi).to_be_hidden()
    page.keyboard.press("Escape")
    expect(board).to_be_hidden()
    nav.locator("summary", has_text="志愿").click()
    nav.get_by_role("link", name="志愿活动").click()
    page.wait_for_url("**/volunteering/activities/")
    expect(nav.locator("details", has_text="志愿")).to_have_class("navgroup on")
