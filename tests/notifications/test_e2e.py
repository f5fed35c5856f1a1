"""In real headless Chromium: a grid worker sees the unread badge for a new assignment, opens it and it is read."""

import pytest

from gongzhi.notifications.models import Notification
from tests.appeals.conftest import submit
from tests.appeals.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_grid_worker_sees_the_badge_opens_the_assignment_and_it_is_read(page, live_server, city):
    base = live_server.url
    login(page, base, "gw1")
    page.wait_for_load_state("networkidle")  # the badge is fetched after the page loads
    assert page.get_by_test_id("unread-badge").count() == 0

    a = submit(city.jumin, title="楼道堆物堵塞")
    page.goto(base + "/appeals/inbox/")
    badge = page.get_by_test_id("unread-badge")
    badge.wait_for()
    assert badge.inner_text() == "1"

    page.click("header nav a[href='/notifications/']")
    page.wait_for_url(base + "/notifications/")
    row = page.locator("[data-testid=notification][data-kind=assigned]")
    assert "楼道堆物堵塞" in row.inner_text() and "unread" in row.get_attribute("class")
    row.get_by_test_id("open-notification").click()
    page.wait_for_url(base + f"/appeals/{a.number}/")
    assert page.get_by_test_id("appeal-number").inner_text() == a.number
    assert Notification.objects.get(recipient=city.gw1).read_at is not None
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("unread-badge").count() == 0

    # A second one, marked read from the list without opening it.
    submit(city.jumin, title="共享单车乱停放")
    page.goto(base + "/notifications/")
    page.get_by_test_id("unread-badge").wait_for()
    page.locator("[data-testid=notification].unread").get_by_test_id("mark-read").click()
    page.wait_for_url(base + "/notifications/")
    assert page.locator("[data-testid=notification].unread").count() == 0
    assert page.locator("[data-testid=read]").count() == 2
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("unread-badge").count() == 0
