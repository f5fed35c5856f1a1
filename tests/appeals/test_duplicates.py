"""Duplicate suggestions (疑似重复诉求): same category, near, recent, visible to the viewer; on the
appeal page for staff who may merge (with a one-click merge into this appeal) and in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.appeals import selectors, services
from gongzhi.appeals.models import Appeal
from tests.appeals.conftest import IN_XINGNING, bearer, submit
from tests.appeals.test_hotspots import near

pytestmark = pytest.mark.django_db


def numbers(cands) -> list[str]:
    return [c.appeal.number for c in cands]


def test_near_recent_appeals_of_the_same_category_are_suggested_nearest_first(city):
    a = submit(city.jumin)
    close = submit(city.linju, point=near(30, 0), text="烧烤店太吵")
    farther = submit(city.linju, point=near(150, 0), text="烧烤店太吵了")
    submit(city.linju, point=near(260, 0), text="远处的噪声")  # beyond 200 m
    submit(city.linju, point=near(10, 0), category="city_appearance", text="占道经营")  # another category
    got = selectors.duplicate_candidates(city.cw, a)
    assert numbers(got) == [close.number, farther.number]
    assert 25 < got[0].distance_m < 35 and 140 < got[1].distance_m < 160
    assert got[0].hours_apart < 1


def test_old_appeals_merged_and_rejected_ones_and_the_appeal_itself_are_left_out(city):
    a = submit(city.jumin)
    old = submit(city.linju, point=near(20, 0))
    Appeal.objects.filter(pk=old.pk).update(submitted_at=a.submitted_at - dt.timedelta(days=8))
    merged = submit(city.linju, point=near(20, 20))
    services.appeal_merge(actor=city.cw, appeal=merged, into=a.number)
    rejected = submit(city.linju, point=near(0, 20))
    services.appeal_reject(actor=city.cw, appeal=rejected, reason="不属于本社区", redirect_to="市12345热线")
    assert selectors.duplicate_candidates(city.cw, a) == []
    Appeal.objects.filter(pk=old.pk).update(submitted_at=a.submitted_at - dt.timedelta(days=6))
    assert numbers(selectors.duplicate_candidates(city.cw, a)) == [old.number]


def test_recently_resolved_is_suggested_resolved_long_ago_is_not(city):
    a = submit(city.jumin)
    done = submit(city.linju, point=near(20, 0))
    services.appeal_accept(actor=city.gw1, appeal=done)
    services.appeal_resolve(actor=city.gw1, appeal=done, note="已劝导商户")
    assert numbers(selectors.duplicate_candidates(city.cw, a)) == [done.number]
    # An appeal open for twelve days: its neighbour resolved nine days ago is history, five days ago is not.
    now = timezone.now()
    Appeal.objects.filter(pk=a.pk).update(submitted_at=now - dt.timedelta(days=12))
    a.refresh_from_db()
    Appeal.objects.filter(pk=done.pk).update(submitted_at=now - dt.timedelta(days=13),
                                             resolved_at=now - dt.timedelta(days=9))
    assert selectors.duplicate_candidates(city.cw, a) == []
    Appeal.objects.filter(pk=done.pk).update(resolved_at=now - dt.timedelta(days=5))
    assert numbers(selectors.duplicate_candidates(city.cw, a)) == [done.number]


def test_only_appeals_the_viewer_may_see_are_suggested(city):
    a = submit(city.jumin)
    theirs = submit(city.linju, point=near(20, 0))
    mine = submit(city.jumin, point=near(0, 20), text="昨晚又吵")
    assert set(numbers(selectors.duplicate_candidates(city.cw, a))) == {theirs.number, mine.number}
    assert numbers(selectors.duplicate_candidates(city.jumin, a)) == [mine.number]  # not a neighbour's
    assert selectors.duplicate_candidates(city.cw_x, a) == []  # 兴宁's worker sees nothing of 北宁


def test_the_settings_choose_radius_and_days(city, settings):
    a = submit(city.jumin)
    b = submit(city.linju, point=near(150, 0))
    settings.APPEAL_DUPLICATE_RADIUS_M = 100
    assert selectors.duplicate_candidates(city.cw, a) == []
    settings.APPEAL_DUPLICATE_RADIUS_M = 200
    Appeal.objects.filter(pk=b.pk).update(submitted_at=a.submitted_at + dt.timedelta(days=2))
    settings.APPEAL_DUPLICATE_DAYS = 1
    assert selectors.duplicate_candidates(city.cw, a) == []
    settings.APPEAL_DUPLICATE_DAYS = 3
    assert numbers(selectors.duplicate_candidates(city.cw, a)) == [b.number]


def test_the_limit_caps_the_suggestions(city):
    a = submit(city.jumin)
    for i in range(4):
        submit(city.linju, point=near(10 * (i + 1), 0), text=f"第 {i} 条")
    assert len(selectors.duplicate_candidates(city.cw, a, limit=2)) == 2
    assert len(selectors.duplicate_candidates(city.cw, a)) == 4


# ---- the API ----

def test_the_api_lists_duplicates_with_distance_and_whether_they_can_be_merged_here(client, city):
    a = submit(city.jumin)
    b = submit(city.linju, point=near(40, 0))
    r = client.get(f"/api/v1/appeals/{a.number}/duplicates", **bearer(city.cw))
    assert r.status_code == 200
    body = r.json()
    assert (body["number"], body["radius_m"], body["days"]) == (a.number, 200, 7)
    [item] = body["items"]
    assert item["appeal"]["number"] == b.number and item["can_merge_here"] is True
    assert 35 < item["distance_m"] < 45
    # The grid worker may read them but not merge; the resident sees only their own appeals.
    r = client.get(f"/api/v1/appeals/{a.number}/duplicates", **bearer(city.gw1))
    assert [i["can_merge_here"] for i in r.json()["items"]] == [False]
    assert client.get(f"/api/v1/appeals/{a.number}/duplicates", **bearer(city.jumin)).json()["items"] == []
    # Out of scope: the same 404 as a missing appeal.
    r = client.get(f"/api/v1/appeals/{a.number}/duplicates", **bearer(city.gw_x))
    assert r.status_code == 404 and r.json()["error"]["code"] == "appeal_not_found"
    assert client.get(f"/api/v1/appeals/{a.number}/duplicates").status_code == 401


def test_merging_a_suggested_duplicate_through_the_api(client, city):
    a = submit(city.jumin)
    b = submit(city.linju, point=near(40, 0))
    r = client.post(f"/api/v1/appeals/{b.number}/merge", {"version": b.version, "into": a.number},
                    content_type="application/json", **bearer(city.cw))
    assert r.status_code == 200 and r.json()["merged_into"] == a.number
    assert client.get(f"/api/v1/appeals/{a.number}/duplicates", **bearer(city.cw)).json()["items"] == []


# ---- the page ----

def test_the_page_shows_the_panel_to_staff_who_may_merge_only(client, city):
    a = submit(city.jumin)
    b = submit(city.linju, point=near(40, 0), title="烧烤噪声", text="烧烤店凌晨还在营业")
    client.force_login(city.cw)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-testid="duplicates"' in html and "疑似重复诉求" in html
    assert f'data-number="{b.number}"' in html and "约 40 米" in html and "合并到此" in html
    assert f'action="/appeals/{b.number}/merge/"' in html and f'name="into" value="{a.number}"' in html
    for viewer in (city.jumin, city.gw1):
        client.force_login(viewer)
        assert 'data-testid="duplicates"' not in client.get(f"/appeals/{a.number}/").content.decode()


def test_the_panel_says_so_when_there_is_no_duplicate(client, city):
    a = submit(city.jumin, point=IN_XINGNING)
    client.force_login(city.cw_x)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-testid="no-duplicates"' in html


def test_merge_here_posts_to_the_merge_action_and_comes_back(client, city):
    a = submit(city.jumin)
    b = submit(city.linju, point=near(40, 0))
    client.force_login(city.cw)
    r = client.post(f"/appeals/{b.number}/merge/", {"version": b.version, "into": a.number,
                                                    "next": f"/appeals/{a.number}/"})
    assert r.status_code == 302 and r["Location"] == f"/appeals/{a.number}/"
    b.refresh_from_db()
    a.refresh_from_db()
    assert (b.state, b.merged_into_id, a.merged_count) == ("merged", a.pk, 1)
    assert f'data-number="{b.number}"' not in client.get(f"/appeals/{a.number}/").content.decode()


def test_the_appeal_page_costs_the_same_queries_with_more_duplicates(client, city):
    a = submit(city.jumin)
    client.force_login(city.cw)

    def cost():
        client.get(f"/appeals/{a.number}/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/appeals/{a.number}/").status_code == 200
        return len(ctx.captured_queries)

    submit(city.linju, point=near(20, 0))
    one = cost()
    for i in range(4):
        submit(city.linju, point=near(0, 10 * (i + 1)), text=f"又一条 {i}")
    assert cost() == one
