"""In real Chromium, desktop and phone: an auditor filters the audit log by a person and a date, reads
the actions by name, and exports what is shown; a bad date is answered with a message."""

import pytest

from gongzhi.core import audit
from gongzhi.org.models import Person
from tests.factories import PASSWORD, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_auditor_filters_and_exports(browser, live_server, tree, width, height):
    gw = user("gw1", ("grid_worker", tree["beining"]))
    Person.objects.create(name="王网格员", registered_community=tree["beining"], user=gw)
    other = user("cw", ("community_worker", tree["beining"]), first_name="李社工")
    for i in range(3):
        audit.record(gw, "appeal.accept", object_type="appeals.appeal", object_id=str(i))
    audit.record(other, "need.create", object_type="lists.need", object_id="9")
    user("aud", ("auditor", tree["district"]))
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "aud")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(base + "/audit/")
    form = page.get_by_test_id("audit-filters")
    form.locator("input[name=actor]").fill("王网格员")
    form.locator("select[name=action]").select_option(label="诉求：受理")
    form.locator("button.primary").click()
    page.wait_for_url("**/audit/?**")
    rows = page.get_by_test_id("audit-row")
    assert rows.count() == 3
    assert "王网格员（gw1）" in rows.first.inner_text() and "诉求：受理" in rows.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    with page.expect_download() as dl:
        page.get_by_test_id("audit-export").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    page.goto(base + "/audit/?from=2026-02-30")
    assert "不是有效日期" in page.get_by_test_id("error").inner_text()
    assert not errors
    ctx.close()
