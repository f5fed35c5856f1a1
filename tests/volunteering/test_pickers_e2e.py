"""In real headless Chromium, desktop and phone: a unit's liaison publishes an activity organised by
its team, choosing the team with the searchable picker by pinyin initials (no list of every team)."""

import pytest

from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity
from tests.pickers import pick

from .test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_liaison_picks_the_team_by_initials_and_publishes(browser, live_server, world, viewport):
    team = services.team_create(actor=world.cw, community=world.beining, name="北宁红扳手", unit=world.unit)
    base = live_server.url
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(page, base, "liaison")
        page.goto(base + "/volunteering/activities/new/")
        page.fill("input[name=title]", "义务维修")
        pick(page.locator("select[name=community]"), "bn", "北宁社区")
        page.select_option("select[name=organiser_kind]", "team")
        assert "红扳手" in pick(page.locator("select[name=team]"), "bnhbs", "北宁红扳手")
        page.fill("input[name=venue]", "北宁社区广场")
        page.fill("input[name=starts_at]", "2030-05-01T09:00")
        page.fill("input[name=ends_at]", "2030-05-01T11:00")
        page.click("[data-testid=create-activity]")
        page.wait_for_url(f"{base}/volunteering/activities/*/")
        a = Activity.objects.get(title="义务维修")
        assert (a.team_id, a.community_id) == (team.pk, world.beining.pk)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert not errors
    finally:
        ctx.close()
