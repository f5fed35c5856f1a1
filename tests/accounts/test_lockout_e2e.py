"""In real headless Chromium: after five wrong passwords the login page says the account is locked,
and the right password does not get in."""

import pytest

from tests.factories import PASSWORD, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_login_page_shows_the_lockout_and_refuses_the_right_password(page, live_server, settings, tree):
    settings.AXES_FAILURE_LIMIT = 5
    user("worker", ("community_worker", tree["beining"]))
    base = live_server.url

    def try_password(password):
        page.goto(base + "/login/")
        page.fill("input[name=username]", "worker")
        page.fill("input[name=password]", password)
        with page.expect_navigation() as nav:
            page.click("button[type=submit]")
        return nav.value

    for i in range(4):
        assert try_password(f"wrong-{i}").status == 200
        assert "用户名或密码不正确" in page.get_by_role("alert").inner_text()
    assert try_password("wrong-4").status == 429
    resp = try_password(PASSWORD)
    assert resp.status == 429 and page.url == base + "/login/"
    alert = page.get_by_test_id("lockout")
    assert "登录失败次数过多" in alert.inner_text() and "15 分钟" in alert.inner_text()
    page.goto(base + "/accounts/tokens/")
    assert page.url.startswith(base + "/login/")  # still signed out
