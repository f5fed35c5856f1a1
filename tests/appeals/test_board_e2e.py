"""In real headless Chromium: a street officer opens the dispatch board, sees a hotspot and turns it
into a proactive appeal whose page lists the repeats; a community worker merges a suggested
duplicate from the appeal page."""

import pytest

from gongzhi.appeals import hotspots
from gongzhi.appeals.models import Appeal, Hotspot
from tests.appeals.conftest import submit
from tests.appeals.test_e2e import login
from tests.appeals.test_hotspots import near, repeats

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_street_officer_turns_a_hotspot_into_a_proactive_appeal(page, live_server, city):
    base = live_server.url
    made = repeats(city, 5)
    hotspots.detect_hotspots()
    h = Hotspot.objects.get()
    login(page, base, "so")
    page.locator("header nav summary", has_text="诉求").click()  # the 诉求 menu
    page.locator("header nav").get_by_role("link", name="调度台").click()
    page.wait_for_url(base + "/appeals/board/")
    assert page.get_by_test_id("count-hotspots").inner_text() == "1"
    page.get_by_test_id("tab-hotspots").click()
    card = page.locator(f"[data-testid=hotspot][data-id='{h.pk}']")
    assert "噪声扰民" in card.inner_text()
    assert card.get_by_test_id("hotspot-repeats").locator("li").count() == 5
    form = card.get_by_test_id("hotspot-convert")
    form.locator("input[name=title]").fill("北宁夜市烧烤噪声集中整治")

    page.once("dialog", lambda d: d.dismiss())  # changing one's mind at the confirmation sends nothing
    form.get_by_test_id("do-convert").click()
    assert page.url.startswith(base + "/appeals/board/") and Hotspot.objects.get().state == "open"

    page.once("dialog", lambda d: d.accept())
    form.get_by_test_id("do-convert").click()
    page.get_by_test_id("repeats").wait_for()
    h.refresh_from_db()
    assert page.url == base + f"/appeals/{h.proactive_appeal.number}/"
    assert page.get_by_test_id("appeal-title").inner_text() == "北宁夜市烧烤噪声集中整治"
    assert page.get_by_test_id("appeal-state").inner_text() == "办理中"
    assert "陈干部" in page.get_by_test_id("owner").inner_text()
    listed = page.get_by_test_id("repeat")
    assert listed.count() == 5
    assert {listed.nth(i).get_attribute("data-number") for i in range(5)} == {a.number for a in made}
    assert "已将热点预警转为未诉先办诉求" in page.locator(".messages").inner_text()


def test_community_worker_merges_a_suggested_duplicate(page, live_server, city):
    base = live_server.url
    a = submit(city.jumin, title="楼下烧烤店噪声", text="每晚营业到凌晨两点")
    b = submit(city.linju, point=near(40, 0), title="烧烤太吵", text="隔壁烧烤摊吵得睡不着")
    login(page, base, "cw")
    page.goto(base + f"/appeals/{a.number}/")
    row = page.locator(f"[data-testid=duplicate-row][data-number='{b.number}']")
    assert "烧烤太吵" in row.inner_text() and "约 40 米" in row.inner_text()
    page.once("dialog", lambda d: d.accept())
    row.get_by_test_id("do-merge-here").click()
    page.locator(".messages").wait_for()
    assert page.url == base + f"/appeals/{a.number}/"
    assert "已合并重复诉求" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("no-duplicates").is_visible()
    assert "并入重复诉求" in page.get_by_test_id("timeline").inner_text()
    b = Appeal.objects.get(pk=b.pk)
    assert (b.state, b.merged_into_id) == ("merged", a.pk)
