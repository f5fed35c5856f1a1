"""In real headless Chromium, phone and desktop: an administrator grants a role on a grid, choosing the
scope type and then the grid with the searchable picker (pinyin initials), which follows the type and
offers only the administrator's own scope."""

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import RoleAssignment
from gongzhi.places.models import GridLevel
from tests.factories import PASSWORD, grid
from tests.pickers import pick, picker_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_an_admin_grants_a_role_on_a_grid_chosen_with_the_picker(browser, live_server, acc, viewport):
    mine = grid(acc.tree["beining"], GridLevel.COMMUNITY, 108.0, 22.0, 108.1, 22.1, name="北宁一网格")
    grid(acc.taoyuan, GridLevel.COMMUNITY, 108.2, 22.0, 108.3, 22.1, name="桃源一网格")
    base = live_server.url
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        url = f"{base}/accounts/users/{acc.subject.pk}/"
        page.goto(url)
        page.select_option("select[name=scope_kind]", "grid")
        scope = page.locator("select[name=scope_code]")
        assert scope.get_attribute("data-picker") == "grid"
        # Another district's grid is not offered...
        box = picker_of(scope)
        box.locator(".ts-control").click()
        box.locator(".ts-control input").press_sequentially("tywg", delay=40)
        box.locator(".ts-dropdown .no-results").wait_for()
        # ...the administrator's own is, by its initials.
        page.goto(url)
        page.select_option("select[name=role]", "grid_worker")
        page.select_option("select[name=scope_kind]", "grid")
        assert "北宁一网格" in pick(scope, "bnyw", "北宁一网格")
        expect(scope).to_have_value(mine.code)
        page.screenshot(path=f"/tmp/grant_scope_picker_{viewport['width']}.png", full_page=True)
        page.get_by_role("button", name="授予").click()
        page.wait_for_url(f"{base}/accounts/users/{acc.subject.pk}/")
        assert RoleAssignment.objects.filter(user=acc.subject, role="grid_worker", grid=mine).exists()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert not errors
    finally:
        ctx.close()
