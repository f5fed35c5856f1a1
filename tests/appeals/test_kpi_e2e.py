"""In real headless Chromium: a street officer reads the KPI page, sees the chart, and opens the list
behind a number."""

import pytest

from gongzhi.appeals import services
from tests.appeals.conftest import IN_XINGNING, submit
from tests.appeals.test_e2e import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_street_officer_reads_the_kpis_and_follows_a_number_to_its_appeals(page, live_server, city):
    a = submit(city.jumin, title="路灯不亮")
    services.appeal_accept(actor=city.gw1, appeal=a)
    b = submit(city.linju, title="井盖松动")
    submit(city.jumin, point=IN_XINGNING, title="兴宁社区的噪声")
    base = live_server.url
    login(page, base, "so")
    page.locator("header nav summary", has_text="诉求").click()  # the 诉求 menu
    page.get_by_role("navigation").get_by_role("link", name="绩效统计").click()
    page.get_by_test_id("kpi-scope").wait_for()
    assert page.get_by_test_id("kpi-scope").inner_text() == "民生街道"
    assert page.get_by_test_id("rate-response_rate").inner_text().startswith("33.3%")
    assert page.get_by_test_id("total-submitted").inner_text() == "3"
    rows = page.get_by_test_id("kpi-child")
    assert rows.count() == 2
    assert "北宁社区" in rows.nth(1).inner_text()
    page.wait_for_function("document.getElementById('kpi-chart').dataset.ready === '1'")
    assert page.locator("#kpi-chart canvas").count() >= 1

    # The 2 behind 北宁社区's submissions: exactly its two appeals.
    rows.nth(1).locator("td").nth(1).get_by_role("link").click()
    page.get_by_test_id("kpi-list-title").wait_for()
    assert page.get_by_test_id("kpi-list-title").inner_text() == "北宁社区 · 提交诉求"
    numbers = page.get_by_test_id("kpi-list-row").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert numbers == [a.number, b.number]
    with page.expect_download() as dl:
        page.get_by_test_id("kpi-list-export").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
