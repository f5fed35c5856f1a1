"""Reads for volunteering: what a user may see, the calendar, wait-list positions, year-end records."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.org.models import Organization

from .models import (
    Activity,
    ActivityState,
    DualReport,
    ReportKind,
    ReportState,
    SignUp,
    SignUpState,
    Team,
)
from .services import MANAGE, ORGANISE, VIEW, can_organise, person_of


def _org_paths(user, action) -> list[str]:
    return [s.path for s in scopes.scopes_of(user) if s.kind == "org" and action in scopes.ROLE_ACTIONS.get(s.role, ())]


def _pk(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---- dual reports ----

def reports_visible_to(user):
    """Reports of the communities in the user's scope, the user's own, and (liaisons) their unit's."""
    if not getattr(user, "is_authenticated", False):
        return DualReport.objects.none()
    q = scopes.scope_q(user, VIEW, DualReport) | Q(submitted_by=user) | Q(person__user=user)
    for path in _org_paths(user, ORGANISE):
        q |= Q(organization__path__startswith=path)
    return DualReport.objects.filter(q).select_related("organization", "person", "community", "decided_by")


def report_get_for(user, pk) -> DualReport:
    r = reports_visible_to(user).filter(pk=_pk(pk)).first()
    if r is None:
        raise NotFound("report_not_found", _("报到记录不存在或您无权查看。"))
    return r


def filter_reports(qs, *, kind="", state="", year=None, q=""):
    if kind in ReportKind.values:
        qs = qs.filter(kind=kind)
    if state in ReportState.values:
        qs = qs.filter(state=state)
    if _pk(year):
        qs = qs.filter(year=_pk(year))
    if q:
        qs = qs.filter(Q(organization__name__icontains=q) | Q(person__name__icontains=q))
    return qs


def my_reports(user):
    """My own report and those of the units I am liaison for."""
    q = Q(submitted_by=user) | Q(person__user=user)
    for path in _org_paths(user, ORGANISE):
        q |= Q(organization__path__startswith=path)
    return reports_visible_to(user).filter(q)


# ---- teams ----

def teams_visible_to(user, *, q="", community=None):
    qs = Team.objects.select_related("community", "leader", "unit").annotate(n_members=Count("memberships"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(speciality__icontains=q))
    if _pk(community):
        qs = qs.filter(community_id=_pk(community))
    return qs.order_by("place_path", "name", "id")


def team_get(pk) -> Team:
    t = Team.objects.select_related("community", "leader", "unit").filter(pk=_pk(pk)).first()
    if t is None:
        raise NotFound("team_not_found", _("志愿服务队不存在。"))
    return t


# ---- activities ----

def activities_visible_to(user):
    """Published, finished and cancelled activities are open to everyone signed in; drafts to their organisers."""
    qs = Activity.objects.select_related("community", "team", "unit", "team__unit")
    if not getattr(user, "is_authenticated", False):
        return qs.exclude(state=ActivityState.DRAFT)
    q = ~Q(state=ActivityState.DRAFT) | Q(created_by=user) | scopes.scope_q(user, MANAGE, Activity)
    for path in _org_paths(user, ORGANISE):
        q |= Q(unit__path__startswith=path) | Q(team__unit__path__startswith=path)
    person = person_of(user)
    if person is not None:
        q |= Q(team__leader=person)
    return qs.filter(q)


def activity_get_for(user, pk) -> Activity:
    a = activities_visible_to(user).filter(pk=_pk(pk)).first()
    if a is None:
        raise NotFound("activity_not_found", _("活动不存在。"))
    return a


def calendar_window(*, view="month", on=None) -> tuple[dt.date, dt.date]:
    """[first day, day after last] of the week or month containing `on` (Asia/Shanghai)."""
    on = on or timezone.localdate()
    if view == "week":
        start = on - dt.timedelta(days=on.weekday())
        return start, start + dt.timedelta(days=7)
    start = on.replace(day=1)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return start, nxt


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filter_activities(qs, *, start=None, end=None, state="", community=None, team=None, mine_person=None, q=""):
    if start:
        qs = qs.filter(ends_at__gt=_aware(start))
    if end:
        qs = qs.filter(starts_at__lt=_aware(end))
    if state in ActivityState.values:
        qs = qs.filter(state=state)
    if _pk(community):
        qs = qs.filter(community_id=_pk(community))
    if _pk(team):
        qs = qs.filter(team_id=_pk(team))
    if mine_person is not None:
        qs = qs.filter(signups__person=mine_person, signups__state__in=(SignUpState.SIGNED, SignUpState.WAITING))
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(venue__icontains=q))
    return qs.order_by("starts_at", "id")


def signup_of(activity, person) -> SignUp | None:
    if person is None:
        return None
    return (SignUp.objects.filter(activity=activity, person=person).exclude(state=SignUpState.CANCELLED).first()
            or SignUp.objects.filter(activity=activity, person=person).order_by("-id").first())


def wait_position(signup: SignUp) -> int | None:
    """1 for the first in line; None when not waiting."""
    if signup is None or signup.state != SignUpState.WAITING:
        return None
    return SignUp.objects.filter(activity_id=signup.activity_id, state=SignUpState.WAITING).filter(
        Q(queued_at__lt=signup.queued_at) | Q(queued_at=signup.queued_at, id__lt=signup.id)).count() + 1


def counts(activity) -> dict:
    rows = dict(activity.signups.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {"signed": rows.get(SignUpState.SIGNED, 0), "waiting": rows.get(SignUpState.WAITING, 0),
            "free": max(0, activity.capacity - rows.get(SignUpState.SIGNED, 0))}


def signup_states(activities, person) -> dict[int, SignUp]:
    if person is None:
        return {}
    rows = SignUp.objects.filter(activity__in=list(activities), person=person,
                                 state__in=(SignUpState.SIGNED, SignUpState.WAITING))
    return {s.activity_id: s for s in rows}


def attendance(user, activity):
    """The sign-ups of an activity, for its organisers (and viewers in scope) only."""
    if not (can_organise(user, activity) or scopes.can(user, VIEW, activity)):
        raise PermissionDenied("forbidden", _("只有活动的组织者可以查看报名和签到名单。"))
    return activity.signups.select_related("person").order_by("state", "queued_at", "id")


# ---- year-end records ----

def may_see_records(user, org: Organization) -> bool:
    """Community staff (volunteer.view anywhere) and the home organisation's own liaison."""
    return scopes.can(user, VIEW) or scopes.can(user, ORGANISE, org)


def member_record(user, org, year: int) -> list[dict]:
    """Year-end record of each member of `org` who dual-reported (approved) in `year`: activities with
    hours, projects from the lists app, total hours and average rating. Staff see the reports of their
    own communities; the organisation's liaison sees all of its members'."""
    if not may_see_records(user, org):
        raise PermissionDenied("forbidden", _("您无权查看该单位党员的服务记录。"))
    reports = DualReport.objects.filter(kind=ReportKind.MEMBER, state=ReportState.APPROVED, year=year,
                                        person__party__home_organization=org)
    if not scopes.can(user, ORGANISE, org):
        reports = reports.filter(scopes.scope_q(user, VIEW, DualReport))
    reports = list(reports.select_related("person", "community").order_by("person__name", "id"))
    person_ids = [r.person_id for r in reports]
    start, end = _aware(dt.date(year, 1, 1)), _aware(dt.date(year + 1, 1, 1))
    attended = defaultdict(list)
    for s in (SignUp.objects.filter(person_id__in=person_ids, checked_out_at__isnull=False,
                                    activity__starts_at__gte=start, activity__starts_at__lt=end)
              .select_related("activity").order_by("activity__starts_at")):
        attended[s.person_id].append(s)
    projects = _project_summary(person_ids, year)
    out = []
    for r in reports:
        acts = attended.get(r.person_id, [])
        act_hours = sum((s.hours_credited or Decimal(0) for s in acts), Decimal(0))
        p = projects.get(r.person_id) or {}
        p_hours = Decimal(str(p.get("hours") or 0))
        n_projects = p.get("projects") or 0
        out.append({
            "person": r.person, "community": r.community, "report": r, "activities": acts,
            "activity_count": len(acts), "activity_hours": act_hours,
            "project_count": n_projects if isinstance(n_projects, int) else len(n_projects),
            "project_hours": p_hours, "total_hours": act_hours + p_hours, "avg_rating": p.get("avg_rating"),
        })
    return out


def _project_summary(person_ids, year) -> dict:
    try:
        from gongzhi.lists.selectors import member_project_summary
    except ImportError:
        return {}
    return member_project_summary(person_ids, year) if person_ids else {}


def unit_activity_summary(org_ids, year: int) -> dict[int, dict]:
    """Per organisation: finished activities it organised in `year` (directly or through its teams),
    volunteer hours credited and beneficiaries counted. {org_id: {"activities", "hours", "beneficiaries"}}."""
    org_ids = [int(i) for i in org_ids]
    start, end = _aware(dt.date(year, 1, 1)), _aware(dt.date(year + 1, 1, 1))
    out = {i: {"activities": 0, "hours": Decimal(0), "beneficiaries": 0} for i in org_ids}
    acts = (Activity.objects.filter(state=ActivityState.FINISHED, starts_at__gte=start, starts_at__lt=end)
            .filter(Q(unit_id__in=org_ids) | Q(team__unit_id__in=org_ids))
            .annotate(h=Sum("signups__hours_credited")).select_related("team"))
    for a in acts:
        org_id = a.unit_id or a.team.unit_id
        row = out[org_id]
        row["activities"] += 1
        row["hours"] += a.h or Decimal(0)
        row["beneficiaries"] += a.beneficiaries
    return out
