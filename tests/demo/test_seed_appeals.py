"""The demo's sample appeals: every state in the planned numbers, made through the services (their
timelines, work orders and KPI rollups agree with the rows), back-dated into the last 60 days,
idempotent, and visible where the demo accounts look: inboxes, work orders, my appeals, KPIs."""

import datetime as dt
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.appeals import kpi
from gongzhi.appeals.models import Appeal, AppealEvent, State, SummonsState, WhistleSummons
from gongzhi.core import geo
from gongzhi.demo import appeals as demo_appeals
from gongzhi.demo import plan, seed


def quiet(_line):
    pass


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def small(db):
    created = seed.seed("small", log=quiet)
    yield created
    geo.invalidate()


def user(name):
    return get_user_model().objects.get(username=name)


def bearer(name) -> dict:
    _tok, key = ApiToken.issue(user(name))
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def state_counts() -> dict:
    return dict(Counter(Appeal.objects.values_list("state", flat=True)))


@pytest.mark.django_db
def test_small_seed_has_appeals_in_every_state_in_the_planned_numbers(small):
    expected = demo_appeals.expected_states("small")
    assert set(expected) == set(State.values)  # every state of the table, none missing
    assert state_counts() == expected
    assert small["appeals"] == sum(c for c, _d in demo_appeals.PLAN.values())
    assert Appeal.objects.count() == sum(expected.values()) == 62
    # both organisations were summoned, some work orders are done and rated by the street
    orders = Counter(WhistleSummons.objects.values_list("state", flat=True))
    assert orders[SummonsState.SUMMONED] and orders[SummonsState.REPORTED] and orders[SummonsState.RESOLVED]
    assert WhistleSummons.objects.filter(rating_speed__isnull=False).exists()
    assert WhistleSummons.objects.values("assignee").distinct().count() == 2


@pytest.mark.django_db
def test_timelines_agree_with_the_rows_and_lie_in_the_last_sixty_days(small):
    now = timezone.now()
    for a in Appeal.objects.all():
        events = list(AppealEvent.objects.filter(appeal=a).order_by("id"))
        assert events[0].action == "submit" and events[0].at == a.submitted_at
        assert events[-1].to_state == a.state, a.number
        times = [e.at for e in events]
        assert times == sorted(times) and times[-1] < now
        assert now - dt.timedelta(days=61) < a.submitted_at < now
        # the number carries the (back-dated) day of submission, Asia/Shanghai
        assert a.number[2:10] == timezone.localtime(a.submitted_at).strftime("%Y%m%d")
        assert a.respond_due > a.submitted_at and a.resolve_due >= a.respond_due
    merged = Appeal.objects.filter(state=State.MERGED)
    assert all(
        m.merged_into.category_id == m.category_id and m.merged_into.state == State.SUBMITTED for m in merged
    )
    assert Appeal.objects.filter(state=State.REOPENED, reopen_count=1).count() == 3
    assert Appeal.objects.filter(state=State.ACCEPTED, bounce_count=1).count() == 2
    # they span weeks, not one afternoon
    days = {timezone.localtime(d).date() for d in Appeal.objects.values_list("submitted_at", flat=True)}
    assert len(days) >= 15


@pytest.mark.django_db
def test_the_kpi_rollups_are_what_a_rebuild_from_the_timeline_gives(small):
    from gongzhi.places.models import Place

    beining = kpi.place_key(Place.objects.get(code=plan.BEINING).path)

    def totals():
        from gongzhi.appeals.models import AppealRollup

        return list(
            AppealRollup.objects.filter(node=beining)
            .order_by("day")
            .values_list("day", "submitted", "accepted", "resolved", "rated", "closed", "rejected", "merged")
        )

    live = totals()
    assert sum(r[1] for r in live) == Appeal.objects.filter(community__code=plan.BEINING).count()
    kpi.rebuild()
    assert totals() == live


@pytest.mark.django_db
def test_a_second_run_adds_no_appeal(small):
    before = (Appeal.objects.count(), AppealEvent.objects.count(), WhistleSummons.objects.count())
    created = seed.seed("small", log=quiet)
    assert created.get("appeals", 0) == 0
    assert (Appeal.objects.count(), AppealEvent.objects.count(), WhistleSummons.objects.count()) == before


@pytest.mark.django_db
def test_the_demo_accounts_find_them_through_the_api(small, client):
    # the grid worker's appeals, the resident's own (some waiting for a rating), the work orders
    r = client.get("/api/v1/appeals?limit=200", **bearer("gridworker"))
    assert r.status_code == 200 and len(r.json()["items"]) >= 20
    mine = client.get("/api/v1/appeals?mine=true&limit=200", **bearer("resident")).json()["items"]
    assert len(mine) == Appeal.objects.filter(reporter__username="resident").count() >= 40
    numbers = {a["number"] for a in mine}
    resolved = Appeal.objects.filter(state=State.RESOLVED, reporter__username="resident").first()
    assert resolved.number in numbers
    detail = client.get(f"/api/v1/appeals/{resolved.number}", **bearer("resident")).json()
    assert "rate" in detail["allowed_actions"]
    for name in ("department", "liaison"):
        items = client.get("/api/v1/workorders?state=all", **bearer(name)).json()["items"]
        assert items, name
    # KPIs of 北宁社区 over the last 60 days count every one of its appeals
    today = timezone.localdate()
    r = client.get(
        f"/api/v1/kpis/appeals?scope={plan.BEINING}&start={today - dt.timedelta(days=60):%Y-%m-%d}"
        f"&end={today:%Y-%m-%d}",
        **bearer("community"),
    )
    assert r.status_code == 200
    totals = r.json()["totals"]
    assert totals["submitted"] == Appeal.objects.filter(community__code=plan.BEINING).count()
    assert totals["rated"] > 0 and totals["satisfaction_rate"] is not None


@pytest.mark.django_db
def test_the_inbox_page_shows_the_grid_workers_open_appeals(small, client):
    client.force_login(user("gridworker"))
    r = client.get("/appeals/inbox/")
    assert r.status_code == 200
    open_mine = Appeal.objects.filter(
        owner__username="gridworker", state__in=(State.SUBMITTED, State.ACCEPTED)
    )
    assert open_mine.exists()
    assert open_mine.first().number in r.content.decode()


@pytest.mark.django_db
def test_a_larger_scale_adds_only_the_missing_appeals(small):
    seed.seed("district", log=quiet)
    assert state_counts() == demo_appeals.expected_states("district")
    before = Appeal.objects.count()
    assert seed.seed("district", log=quiet).get("appeals", 0) == 0
    assert Appeal.objects.count() == before == 104
