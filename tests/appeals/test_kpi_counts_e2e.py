"""In real Chromium, desktop and phone: the KPI page's "overdue now" is the board's overdue count, and
its link opens the board's overdue section with the same appeals."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import submit
from tests.appeals.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_kpi_overdue_now_is_the_boards_overdue(browser, live_server, city, viewport):
    late = [submit(city.jumin, text=f"第{i}件超时的诉求：楼下噪声。") for i in range(3)]
    Appeal.objects.filter(pk__in=[a.pk for a in late]).update(step_due=timezone.now() - dt.timedelta(hours=1))
    submit(city.linju)  # in time
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    try:
        page = ctx.new_page()
        page.set_default_timeout(15000)
        login(page, live_server.url, "so")
        page.goto(live_server.url + f"/appeals/kpi/?scope={city.tree['street'].code}")
        card = page.get_by_test_id("overdue-now")
        assert card.locator("b").inner_text() == "3"
        page.screenshot(path=f"/tmp/counts_kpi_{viewport['width']}.png", full_page=True)
        card.locator("a").click()
        page.wait_for_url("**/appeals/board/**")
        assert page.get_by_test_id("count-overdue").inner_text() == "3"
        for a in late:
            assert page.get_by_text(a.number).count() >= 1
    finally:
        ctx.close()
