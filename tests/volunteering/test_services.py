"""Services: dual reporting, teams, activities, sign-up with wait list, check-in/out and credits."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.notifications.models import Notification
from gongzhi.timebank import services as tb
from gongzhi.volunteering import selectors, services
from gongzhi.volunteering.models import Activity, DualReport, ReportState, SignUp, SignUpState, Team

from .conftest import activity, later

SOON = dt.timedelta(minutes=5)  # check-in opens 30 minutes before the start

pytestmark = pytest.mark.django_db


# ---- dual reporting ----

def test_member_reports_and_community_approves(world):
    r = services.report_submit(actor=world.m1, kind="member", offer="水电维修")
    assert (r.state, r.community, r.year) == (ReportState.PENDING, world.beining, timezone.localdate().year)
    with pytest.raises(Conflict):
        services.report_submit(actor=world.m1, kind="member")
    with pytest.raises(PermissionDenied):
        services.report_approve(actor=world.cw_x, report=r, version=r.version)
    r = services.report_approve(actor=world.cw, report=r, version=r.version)
    assert r.state == ReportState.APPROVED and r.decided_by == world.cw
    assert AuditEntry.objects.filter(action="volunteering.report_approved").exists()
    with pytest.raises(Conflict):
        services.report_reject(actor=world.cw, report=r, version=r.version, reason="x")


def test_reject_needs_reason_and_withdraw_allows_new_report(world):
    r = services.report_submit(actor=world.m1, kind="member")
    with pytest.raises(ValidationFailed):
        services.report_reject(actor=world.cw, report=r, version=r.version, reason="  ")
    assert DualReport.objects.get(pk=r.pk).state == ReportState.PENDING
    r = services.report_reject(actor=world.cw, report=r, version=r.version, reason="请填写服务意向")
    assert r.state == ReportState.REJECTED
    r2 = services.report_submit(actor=world.m1, kind="member", offer="助学")
    r2 = services.report_withdraw(actor=world.m1, report=r2, version=r2.version)
    assert r2.state == ReportState.WITHDRAWN
    services.report_submit(actor=world.m1, kind="member")


def test_only_in_service_members_and_liaisons_may_report(world):
    with pytest.raises(ValidationFailed):
        services.report_submit(actor=world.retired, kind="member")
    with pytest.raises(ValidationFailed):
        services.report_submit(actor=world.resident, kind="member")
    with pytest.raises(PermissionDenied):
        services.report_submit(actor=world.m1, kind="unit", organization=world.unit)
    r = services.report_submit(actor=world.liaison, kind="unit", organization=world.unit)
    assert r.community == world.beining and r.kind == "unit"
    with pytest.raises(ValidationFailed):
        services.report_submit(actor=world.liaison, kind="unit", organization=world.unit, community=world.xingning,
                               year=r.year + 1)
    with pytest.raises(ValidationFailed):
        services.report_submit(actor=world.m1, kind="member", year=1800)
    with pytest.raises(ValidationFailed):
        services.report_submit(actor=world.m1, kind="nonsense")
    assert DualReport.objects.count() == 1


def test_stale_version_is_refused(world):
    r = services.report_submit(actor=world.m1, kind="member")
    with pytest.raises(Conflict):
        services.report_approve(actor=world.cw, report=r, version=r.version + 1)


# ---- teams ----

def test_team_create_join_leave_and_edit(world):
    leader = world.m1.person
    t = services.team_create(actor=world.cw, community=world.beining, name="红扳手", speciality="维修", leader=leader)
    assert list(t.members.all()) == [leader]
    with pytest.raises(Conflict):
        services.team_create(actor=world.cw, community=world.beining, name="红扳手")
    with pytest.raises(PermissionDenied):
        services.team_create(actor=world.m2, community=world.beining, name="追光")
    services.team_join(actor=world.m2, team=t)
    with pytest.raises(Conflict):
        services.team_join(actor=world.m2, team=t)
    with pytest.raises(Conflict):
        services.team_leave(actor=world.m1, team=t)
    services.team_leave(actor=world.m2, team=t)
    # The leader may edit; another member may not.
    t = services.team_update(actor=world.m1, team=t, version=t.version, speciality="水电维修")
    assert t.speciality == "水电维修" and t.version == 2
    with pytest.raises(PermissionDenied):
        services.team_update(actor=world.m3, team=t, version=t.version, speciality="x")
    with pytest.raises(ValidationFailed):
        services.team_update(actor=world.cw, team=t, version=t.version, name="")
    # A liaison builds a team for its unit and edits it.
    ut = services.team_create(actor=world.liaison, community=world.beining, name="供电服务队", unit=world.unit)
    assert services.can_edit_team(world.liaison, ut) and not services.can_edit_team(world.liaison, t)


# ---- activities and the wait list ----

def test_activity_input_is_validated_and_nothing_is_written(world):
    now = timezone.now()
    bad = [
        {"hours": "-1"}, {"hours": "0"}, {"hours": "25"}, {"hours": "abc"}, {"capacity": 0}, {"capacity": "x"},
        {"title": ""}, {"venue": ""}, {"ends_at": now - dt.timedelta(hours=1)}, {"starts_at": "not a time"},
        {"organiser_kind": "team"}, {"organiser_kind": "alien"}, {"community": world.tree["street"]},
    ]
    for extra in bad:
        with pytest.raises(ValidationFailed):
            activity(world, **extra)
    assert Activity.objects.count() == 0
    with pytest.raises(PermissionDenied):
        services.activity_create(actor=world.m1, title="t", community=world.beining, venue="v", starts_at=now,
                                 ends_at=now + dt.timedelta(hours=1), capacity=3)
    a = activity(world, hours=None, length=dt.timedelta(minutes=90))
    assert a.hours == Decimal("1.5") and len(a.code) == 6


def test_full_activity_goes_to_wait_list_and_cancel_promotes_first_in_line(world):
    a = activity(world, capacity=1)
    s1 = services.signup_create(actor=world.m1, activity=a)
    s2 = services.signup_create(actor=world.m2, activity=a)
    s3 = services.signup_create(actor=world.m3, activity=a)
    assert [s1.state, s2.state, s3.state] == ["signed", "waiting", "waiting"]
    assert selectors.wait_position(s2) == 1 and selectors.wait_position(s3) == 2
    with pytest.raises(Conflict):
        services.signup_create(actor=world.m2, activity=a)
    with pytest.raises(PermissionDenied):
        services.signup_cancel(actor=world.m3, signup=s1)
    services.signup_cancel(actor=world.m1, signup=s1)
    s2.refresh_from_db()
    s3.refresh_from_db()
    assert s2.state == SignUpState.SIGNED and s2.promoted_at and s3.state == SignUpState.WAITING
    assert selectors.wait_position(s3) == 1
    assert Notification.objects.filter(recipient=world.m2, target=f"activity:{a.pk}").exists()
    assert selectors.counts(a) == {"signed": 1, "waiting": 1, "free": 0}
    # More places promote the rest; fewer than signed up is refused.
    a.refresh_from_db()
    a = services.activity_set_capacity(actor=world.cw, activity=a, version=a.version, capacity=2)
    s3.refresh_from_db()
    assert s3.state == SignUpState.SIGNED
    with pytest.raises(ValidationFailed):
        services.activity_set_capacity(actor=world.cw, activity=a, version=a.version, capacity=1)


def test_draft_and_closed_activities_take_no_signups(world):
    a = activity(world, publish=False)
    with pytest.raises(Exception) as e:
        services.signup_create(actor=world.m1, activity=a)
    assert e.value.status == 404
    with pytest.raises(ValidationFailed):
        services.signup_create(actor=world.resident, activity=a)  # no person linked
    a = services.activity_publish(actor=world.cw, activity=a, version=a.version)
    services.signup_create(actor=world.m1, activity=a)
    a = services.activity_cancel(actor=world.cw, activity=a, version=a.version, reason="下雨")
    assert a.state == "cancelled" and a.code == ""
    assert SignUp.objects.get(activity=a).state == SignUpState.CANCELLED
    with pytest.raises(Conflict):
        services.signup_create(actor=world.m2, activity=a)


# ---- check-in, check-out and hours ----

def test_check_in_and_out_credit_hours_once(world):
    a = activity(world, capacity=1, start_in=SOON)
    services.signup_create(actor=world.m1, activity=a)
    services.signup_create(actor=world.m2, activity=a)
    with pytest.raises(ValidationFailed) as e:
        services.check_out(actor=world.m1, code=a.code)
    assert e.value.code == "not_checked_in"
    for code, who, expect in [("ZZZZZZ", world.m1, "wrong_code"), ("", world.m1, "code_required"),
                              ("AB", world.m1, "bad_code"), (a.code, world.m2, "on_wait_list"),
                              (a.code, world.m3, "not_signed_up")]:
        with pytest.raises(ValidationFailed) as e:
            services.check_in(actor=who, code=code)
        assert e.value.code == expect
    assert not SignUp.objects.filter(checked_in_at__isnull=False).exists()
    direction, s = services.attendance_scan(actor=world.m1, code=a.code.lower())
    assert direction == "in" and s.checked_in_at
    with pytest.raises(Conflict):
        services.check_in(actor=world.m1, code=a.code)
    with pytest.raises(Conflict):
        services.signup_cancel(actor=world.m1, signup=s)
    later(a, dt.timedelta(hours=2, minutes=10))  # there from before the start until the end: the activity's 2 hours
    direction, s = services.attendance_scan(actor=world.m1, code=a.code)
    assert direction == "out" and s.hours_credited == Decimal("2.0")
    assert tb.balance(world.m1.person) == Decimal("2")
    with pytest.raises(Conflict):
        services.attendance_scan(actor=world.m1, code=a.code)
    assert tb.balance(world.m1.person) == Decimal("2")


def test_check_in_outside_the_window_is_refused(world):
    early = activity(world, start_in=dt.timedelta(hours=3))
    services.signup_create(actor=world.m1, activity=early)
    with pytest.raises(ValidationFailed) as e:
        services.check_in(actor=world.m1, code=early.code)
    assert e.value.code == "too_early"
    late = activity(world, start_in=dt.timedelta(hours=-1), length=dt.timedelta(minutes=61))
    services.signup_create(actor=world.m1, activity=late)
    Activity.objects.filter(pk=late.pk).update(ends_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationFailed) as e:
        services.check_in(actor=world.m1, code=late.code)
    assert e.value.code == "too_late"


def test_finish_and_summaries(world):
    team = Team.objects.create(community=world.beining, name="供电队", unit=world.unit)
    a = activity(world, organiser_kind="team", team=team, capacity=3, start_in=SOON)
    services.report_approve(actor=world.cw, report=services.report_submit(actor=world.m1, kind="member"), version=1)
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    a = later(a, dt.timedelta(hours=2, minutes=10))
    services.check_out(actor=world.m1, code=a.code)
    with pytest.raises(ValidationFailed):
        services.activity_finish(actor=world.cw, activity=a, version=a.version, summary="好", beneficiaries=-3)
    with pytest.raises(PermissionDenied):
        services.activity_finish(actor=world.m2, activity=a, version=a.version, summary="好", beneficiaries=3)
    a.refresh_from_db()
    a = services.activity_finish(actor=world.cw, activity=a, version=a.version, summary="清理了 3 栋楼",
                                 beneficiaries=120)
    assert a.state == "finished" and a.code == ""
    with pytest.raises(ValidationFailed):
        activity(world, organiser_kind="team", team=team, community=world.xingning)
    year = timezone.localdate().year
    assert selectors.unit_activity_summary([world.unit.pk, world.other.pk], year) == {
        world.unit.pk: {"activities": 1, "hours": Decimal("2.0"), "beneficiaries": 120},
        world.other.pk: {"activities": 0, "hours": Decimal(0), "beneficiaries": 0}}
    rows = selectors.member_record(world.cw, world.unit, year)
    assert [(r["person"], r["activity_count"], r["activity_hours"]) for r in rows] == [
        (world.m1.person, 1, Decimal("2.0"))]
    assert selectors.member_record(world.liaison, world.unit, year)[0]["total_hours"] >= Decimal("2.0")
    assert selectors.member_record(world.cw_x, world.unit, year) == []
    with pytest.raises(PermissionDenied):
        selectors.member_record(world.m2, world.unit, year)


def test_organiser_may_sign_up_someone_else_but_members_may_not(world):
    a = activity(world, capacity=1)
    s = services.signup_create(actor=world.cw, activity=a, person=world.m3.person)
    assert s.person == world.m3.person and s.state == "signed"
    with pytest.raises(PermissionDenied):
        services.signup_create(actor=world.m1, activity=a, person=world.m2.person)
    assert SignUp.objects.filter(activity=a).count() == 1


def test_permissions_across_roles(world):
    a = activity(world)
    assert services.can_organise(world.cw, a)
    assert not services.can_organise(world.cw_x, a)
    assert not services.can_organise(world.liaison, a)
    assert not services.can_organise(world.auditor, a)
    assert list(selectors.attendance(world.auditor, a)) == []  # auditors read attendance, never organise
    with pytest.raises(PermissionDenied):
        selectors.attendance(world.m1, a)
    unit_a = services.activity_create(actor=world.liaison, title="供电安全宣传", community=world.beining, venue="广场",
                                      starts_at=a.starts_at, ends_at=a.ends_at, capacity=5, organiser_kind="unit",
                                      unit=world.unit)
    assert unit_a.state == "draft" and services.can_organise(world.liaison, unit_a)
    with pytest.raises(PermissionDenied):
        services.activity_create(actor=world.liaison, title="x", community=world.beining, venue="广场",
                                 starts_at=a.starts_at, ends_at=a.ends_at, capacity=5, organiser_kind="unit",
                                 unit=world.other)
    # Drafts are visible to their organisers only.
    assert selectors.activities_visible_to(world.m1).filter(pk=unit_a.pk).count() == 0
    assert selectors.activities_visible_to(world.liaison).filter(pk=unit_a.pk).count() == 1


def test_activity_update_validates_and_tells_people_signed_up(world):
    a = activity(world, start_in=dt.timedelta(hours=2))
    services.signup_create(actor=world.m1, activity=a)
    with pytest.raises(ValidationFailed):
        services.activity_update(actor=world.cw, activity=a, version=a.version, hours="-1")
    with pytest.raises(ValidationFailed):
        services.activity_update(actor=world.cw, activity=a, version=a.version, ends_at=a.starts_at)
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=world.m1, activity=a, version=a.version, venue="别处")
    assert Activity.objects.get(pk=a.pk).version == a.version
    a = services.activity_update(actor=world.cw, activity=a, version=a.version, venue="社区广场",
                                 starts_at=a.starts_at + dt.timedelta(hours=1), ends_at=a.ends_at + dt.timedelta(hours=1))
    assert a.venue == "社区广场" and a.version == 2
    assert Notification.objects.filter(recipient=world.m1, title__startswith="活动有变动").exists()
    with pytest.raises(Conflict):
        services.activity_update(actor=world.cw, activity=a, version=1, venue="x")


def test_the_database_holds_the_invariants(world):
    from django.db import IntegrityError, transaction

    r = services.report_submit(actor=world.m1, kind="member")
    with pytest.raises(IntegrityError), transaction.atomic():
        DualReport.objects.create(kind="member", person=world.m1.person, community=world.beining, year=r.year)
    with pytest.raises(IntegrityError), transaction.atomic():
        DualReport.objects.create(kind="unit", person=world.m2.person, community=world.beining, year=r.year)
    a = activity(world)
    for bad in ({"hours": Decimal("-1")}, {"hours": Decimal("25")}, {"capacity": 0}, {"ends_at": a.starts_at}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Activity.objects.filter(pk=a.pk).update(**bad)
    services.signup_create(actor=world.m1, activity=a)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignUp.objects.create(activity=a, person=world.m1.person, state="waiting", queued_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        SignUp.objects.filter(activity=a).update(checked_out_at=timezone.now())


def test_member_record_adds_the_projects_from_the_lists_app(world, monkeypatch):
    from gongzhi.lists import selectors as lists_selectors

    year = timezone.localdate().year
    services.report_approve(actor=world.cw, report=services.report_submit(actor=world.m1, kind="member"), version=1)
    a = activity(world, start_in=SOON)
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, dt.timedelta(hours=2, minutes=10))
    services.check_out(actor=world.m1, code=a.code)
    seen = {}

    def fake(person_ids, y):
        seen["args"] = (list(person_ids), y)
        return {world.m1.person.pk: {"projects": 2, "hours": Decimal("3.5"), "avg_rating": 4.5}}

    monkeypatch.setattr(lists_selectors, "member_project_summary", fake)
    [row] = selectors.member_record(world.cw, world.unit, year)
    assert seen["args"] == ([world.m1.person.pk], year)
    assert (row["project_count"], row["project_hours"], row["total_hours"], row["avg_rating"]) == (
        2, Decimal("3.5"), Decimal("5.5"), 4.5)


def test_organiser_checks_people_in_and_out_by_hand(world):
    a = activity(world, capacity=1, start_in=SOON)
    s1 = services.signup_create(actor=world.m1, activity=a)
    s2 = services.signup_create(actor=world.m2, activity=a)
    with pytest.raises(PermissionDenied):
        services.attendance_mark(actor=world.m1, signup=s1, direction="in")
    with pytest.raises(ValidationFailed):
        services.attendance_mark(actor=world.cw, signup=s2, direction="in")  # on the wait list
    with pytest.raises(ValidationFailed):
        services.attendance_mark(actor=world.cw, signup=s1, direction="out")  # not checked in
    services.attendance_mark(actor=world.cw, signup=s1, direction="in")
    later(a, dt.timedelta(hours=2, minutes=10))
    s = services.attendance_mark(actor=world.cw, signup=s1, direction="out")
    assert s.hours_credited == Decimal("2.0") and tb.balance(world.m1.person) == Decimal("2")
    with pytest.raises(Conflict):
        services.check_out(actor=world.m1, code=a.code)


def test_report_decisions_are_notified_to_the_submitter(world):
    r = services.report_submit(actor=world.m1, kind="member")
    services.report_reject(actor=world.cw, report=r, version=r.version, reason="请补充服务意向")
    n = Notification.objects.get(recipient=world.m1)
    assert n.title == "双报到被退回：北宁社区" and n.body == "退回理由：请补充服务意向"
