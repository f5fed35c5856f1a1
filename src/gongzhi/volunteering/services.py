"""Every write to volunteering: dual reports, teams, activities, sign-ups and attendance.

One function per use case, keyword-only, each taking `actor`, each one transaction. Rules live
here (pages and the API both call in): bad input is a ValidationFailed (400) and changes nothing,
a stale version or a lost race a Conflict (409), no permission a PermissionDenied (403). Sign-ups
lock the activity row, so concurrent sign-ups queue and never put more people in than it holds;
check-out locks the sign-up row, so hours are credited once. The hours a stay earns come from one
rule, `credited_hours` (check-out by code, by the organiser's hand, and at the end of the activity).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from gongzhi.core import audit, scopes
from gongzhi.core.duties import refuse_self
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import checked_text, clean_text
from gongzhi.core.times import parse_when
from gongzhi.core.transactions import serialised
from gongzhi.notifications.messages import Msg
from gongzhi.org.models import Organization, PartyStatus, Person
from gongzhi.places.models import Place, PlaceKind

from .models import (
    ACTIVE_REPORT_STATES,
    Activity,
    ActivityState,
    DualReport,
    OrganiserKind,
    ReportKind,
    ReportState,
    SignUp,
    SignUpState,
    Team,
    TeamMember,
)

TITLE_MAX = 100
TEXT_MAX = 2000
REASON_MAX = 500
VENUE_MAX = 200
CAPACITY_MAX = 10000
BENEFICIARIES_MAX = 1_000_000
# Check-in and check-out are accepted from this long before the start until this long after the end.
GRACE = dt.timedelta(minutes=30)
# Presence is credited in whole tenths of an hour (6 minutes), rounded down.
CREDIT_STEP = dt.timedelta(minutes=6)
MIN_STAY_DEFAULT_MINUTES = 15
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MANAGE = "volunteer.manage"
ORGANISE = "volunteer.organise"
VIEW = "volunteer.view"


class _Keep:
    def __repr__(self):
        return "KEEP"


KEEP = _Keep()


# ---- helpers ----

def _serialised(fn):
    return serialised(fn, _("系统正忙，有人正在办理同一事项，请稍后重试。"))

def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _require_login(actor):
    if not _signed_in(actor):
        raise PermissionDenied("login_required", _("请先登录。"))


def person_of(actor) -> Person | None:
    """The person linked to an account (remembered on the user object once found, i.e. per request)."""
    if not _signed_in(actor):
        return None
    cached = getattr(actor, "_gz_vol_person", None)
    if cached is not None:
        return cached
    person = Person.objects.filter(user=actor).select_related("party", "party__home_organization").first()
    if person is not None:
        actor._gz_vol_person = person
    return person


def _my_person(actor) -> Person:
    _require_login(actor)
    person = person_of(actor)
    if person is None:
        raise ValidationFailed("no_person", _("您的账号还没有关联人员信息，请联系社区工作者登记。"))
    return person


_text = checked_text

def _int(value, *, field_label, minimum, maximum) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("bad_number", _("%(field)s应为整数。") % {"field": field_label}) from None
    if n < minimum or n > maximum:
        raise ValidationFailed("out_of_range", _("%(field)s应在 %(min)d 至 %(max)d 之间。") % {
            "field": field_label, "min": minimum, "max": maximum})
    return n


def _hours(value) -> Decimal:
    try:
        h = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("bad_hours", _("计时应为数字（小时）。")) from None
    if not h.is_finite() or h <= 0 or h > 24:
        raise ValidationFailed("bad_hours", _("计时应大于 0 小时且不超过 24 小时。"))
    return h.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _when(value, *, field_label) -> dt.datetime:
    return parse_when(value, field_label=field_label)


def _version(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("version_required", _("缺少记录版本号，请刷新页面后重试。")) from None


def _stale() -> Conflict:
    return Conflict("stale", _("该记录已被他人修改，请刷新后重试。"))


def _locked(model, pk, version=None):
    row = model.objects.select_for_update(of=("self",)).filter(pk=pk).first()
    if row is None:
        raise NotFound("gone", _("记录不存在或已被删除。"))
    if version is not None and row.version != _version(version):
        raise _stale()
    return row


def _community(value) -> Place:
    place = value if isinstance(value, Place) else Place.objects.filter(pk=_pk(value)).first()
    if place is None or place.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed("bad_community", _("请选择一个社区。"))
    return place


def _pk(value):
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return None


def current_year() -> int:
    return timezone.localdate().year


# ---- dual reporting ----

def report_submit(*, actor, kind, community=None, organization=None, offer="", year=None) -> DualReport:
    """Register a unit (its liaison) or oneself (an in-service party member) with a community for a year."""
    _require_login(actor)
    year = current_year() if year in (None, "") else _int(year, field_label=_("年度"), minimum=2000,
                                                           maximum=current_year() + 1)
    offer = _text(offer, field_label=_("服务承诺"), max_len=REASON_MAX, required=False)
    fields = {"year": year, "offer": offer, "submitted_by": actor}
    if kind == ReportKind.UNIT:
        org = organization if isinstance(organization, Organization) else \
            Organization.objects.filter(pk=_pk(organization)).first()
        if org is None:
            raise ValidationFailed("bad_unit", _("请选择报到的单位。"))
        if not scopes.can(actor, ORGANISE, org):
            raise PermissionDenied("forbidden", _("只有本单位的联络员可以为单位报到。"))
        if community in (None, ""):
            if org.place_id is None:
                raise ValidationFailed("bad_community", _("请选择单位所在的社区。"))
            community = Place.objects.filter(kind=PlaceKind.COMMUNITY,
                                             path__in=_ancestor_paths(org.place.path)).first()
        place = _community(community)
        if org.place_id and not org.place_path.startswith(place.path) and not place.path.startswith(org.place_path):
            raise ValidationFailed("wrong_community", _("单位应向其所在的社区报到（%(unit)s 不在 %(c)s）。") % {
                "unit": org.name, "c": place.name})
        fields.update(kind=ReportKind.UNIT, organization=org)
    elif kind == ReportKind.MEMBER:
        person = _my_person(actor)
        party = getattr(person, "party", None)
        if party is None or party.status != PartyStatus.IN_SERVICE:
            raise ValidationFailed("not_in_service", _("只有在职党员需要到居住地社区报到。"))
        if community in (None, ""):
            community = person.registered_community
        if community is None:
            raise ValidationFailed("bad_community", _("请选择您居住的社区。"))
        place = _community(community)
        fields.update(kind=ReportKind.MEMBER, person=person)
    else:
        raise ValidationFailed("bad_kind", _("报到类型只能是 单位 或 在职党员。"))
    fields["community"] = place

    def write():
        subject = {"organization": fields.get("organization")} if kind == ReportKind.UNIT else \
            {"person": fields.get("person")}
        if DualReport.objects.filter(year=year, state__in=ACTIVE_REPORT_STATES, **subject).exists():
            raise Conflict("already_reported", _("%(year)d 年度已经报到过（待审核或已通过），不能重复报到。") % {
                "year": year})
        try:
            with transaction.atomic():
                report = DualReport.objects.create(**fields)
        except IntegrityError:
            raise Conflict("already_reported", _("%(year)d 年度已经报到过（待审核或已通过），不能重复报到。") % {
                "year": year}) from None
        audit.record(actor, "volunteering.report_submit", report,
                     after={"kind": report.kind, "subject": report.subject_name, "community": place.name,
                            "year": year})
        return report

    return _serialised(write)


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _decide(*, actor, report, version, state, reason=""):
    _require_login(actor)

    def write():
        r = _locked(DualReport, _pk(report), version)
        scopes.require(actor, MANAGE, r)
        refuse_self(actor, r.submitted_by_id, r.person, message=_("不能审核自己提交的报到，请由其他工作人员审核。"))
        if r.state != ReportState.PENDING:
            raise Conflict("not_pending", _("该报到已处理（%(s)s），不能再审核。") % {"s": r.get_state_display()})
        now = timezone.now()
        DualReport.objects.filter(pk=r.pk).update(state=state, reason=reason, decided_by=actor, decided_at=now,
                                                  version=F("version") + 1)
        audit.record(actor, f"volunteering.report_{state}", r, before={"state": r.state},
                     after={"state": state, "reason": reason})
        r.refresh_from_db()
        _notify_report(r, exclude=actor)
        return r

    return _serialised(write)


def _notify_report(r: DualReport, exclude=None):
    """The submitter hears the review of their 双报到 (kind DUTY_REPORT: a review, not an appeal's result)."""
    from gongzhi.notifications import services as notifications
    from gongzhi.notifications.models import Kind

    approved = r.state == ReportState.APPROVED
    title = Msg(N_("双报到已通过：%(c)s") if approved else N_("双报到被退回：%(c)s"), c=r.community.name)
    body = Msg(N_("退回理由：%(r)s"), r=r.reason) if r.reason else Msg()
    notifications.notify([r.submitted_by], kind=Kind.DUTY_REPORT, title=title, body=body,
                         link="/volunteering/reports/", target=f"dualreport:{r.pk}", exclude=exclude)


def report_approve(*, actor, report, version) -> DualReport:
    return _decide(actor=actor, report=report, version=version, state=ReportState.APPROVED)


def report_reject(*, actor, report, version, reason) -> DualReport:
    reason = _text(reason, field_label=_("退回理由"), max_len=REASON_MAX)
    return _decide(actor=actor, report=report, version=version, state=ReportState.REJECTED, reason=reason)


def report_withdraw(*, actor, report, version) -> DualReport:
    _require_login(actor)

    def write():
        r = _locked(DualReport, _pk(report), version)
        mine = r.submitted_by_id == actor.pk or (r.person_id and r.person.user_id == actor.pk) or \
            (r.organization_id and scopes.can(actor, ORGANISE, r.organization))
        if not mine:
            raise PermissionDenied("forbidden", _("只能撤回自己（或本单位）的报到。"))
        if r.state not in ACTIVE_REPORT_STATES:
            raise Conflict("not_active", _("该报到已是“%(s)s”状态，不能撤回。") % {"s": r.get_state_display()})
        DualReport.objects.filter(pk=r.pk).update(state=ReportState.WITHDRAWN, version=F("version") + 1)
        audit.record(actor, "volunteering.report_withdraw", r, before={"state": r.state},
                     after={"state": ReportState.WITHDRAWN})
        r.refresh_from_db()
        return r

    return _serialised(write)


# ---- teams ----

def can_edit_team(user, team: Team) -> bool:
    if scopes.can(user, MANAGE, team):
        return True
    if team.unit_id and scopes.can(user, ORGANISE, team.unit):
        return True
    person = person_of(user)
    return person is not None and team.leader_id == person.pk


def may_form_teams(user) -> bool:
    """Community workers (volunteer.manage) and member-unit liaisons (volunteer.organise) form teams."""
    return scopes.can(user, MANAGE) or scopes.can(user, ORGANISE)


def leader_candidates(community: Place):
    """Who may lead a new team of `community`: the people registered in it (the leader picker's scope)."""
    return Person.objects.filter(registered_community=community)


def _person(value, field_label) -> Person | None:
    if value in (None, ""):
        return None
    person = value if isinstance(value, Person) else Person.objects.filter(pk=_pk(value)).first()
    if person is None:
        raise ValidationFailed("bad_person", _("%(field)s不存在。") % {"field": field_label})
    return person


def team_create(*, actor, community, name, speciality="", description="", leader=None, unit=None) -> Team:
    _require_login(actor)
    place = _community(community)
    name = _text(name, field_label=_("队名"), max_len=60)
    speciality = _text(speciality, field_label=_("服务专长"), max_len=100, required=False)
    description = _text(description, field_label=_("简介"), max_len=500, required=False)
    leader = _person(leader, _("队长"))
    org = None
    if unit not in (None, ""):
        org = unit if isinstance(unit, Organization) else Organization.objects.filter(pk=_pk(unit)).first()
        if org is None:
            raise ValidationFailed("bad_unit", _("所属单位不存在。"))
    probe = Team(community=place, place_path=place.path, unit=org)
    if not (scopes.can(actor, MANAGE, probe) or (org is not None and scopes.can(actor, ORGANISE, org))):
        raise PermissionDenied("forbidden", _("只有社区工作者或成员单位联络员可以组建志愿服务队。"))
    if leader is not None and not leader_candidates(place).filter(pk=leader.pk).exists():
        raise ValidationFailed("leader_outside", _("队长须是在%(c)s登记的人员，“%(p)s”不在可选范围内，请重新选择。") % {
            "c": place.name, "p": leader.name}, {"field": "leader"})

    def write():
        if Team.objects.filter(community=place, name=name).exists():
            raise Conflict("duplicate_team", _("本社区已有名为“%(n)s”的志愿服务队。") % {"n": name})
        team = Team.objects.create(community=place, name=name, speciality=speciality, description=description,
                                   leader=leader, unit=org)
        if leader is not None:
            TeamMember.objects.create(team=team, person=leader)
        audit.record(actor, "volunteering.team_create", team,
                     after={"name": name, "speciality": speciality, "leader": leader.name if leader else ""})
        return team

    return _serialised(write)


def team_update(*, actor, team, version, name=KEEP, speciality=KEEP, description=KEEP, leader=KEEP,
                active=KEEP) -> Team:
    _require_login(actor)

    def write():
        t = _locked(Team, _pk(team), version)
        if not can_edit_team(actor, t):
            raise PermissionDenied("forbidden", _("只有社区工作者、所属单位联络员或队长可以修改队伍。"))
        changes = {}
        if name is not KEEP:
            changes["name"] = _text(name, field_label=_("队名"), max_len=60)
        if speciality is not KEEP:
            changes["speciality"] = _text(speciality, field_label=_("服务专长"), max_len=100, required=False)
        if description is not KEEP:
            changes["description"] = _text(description, field_label=_("简介"), max_len=500, required=False)
        if leader is not KEEP:
            p = _person(leader, _("队长"))
            if p is not None and p.pk != t.leader_id and not TeamMember.objects.filter(team=t, person=p).exists():
                raise ValidationFailed("leader_not_member", _("队长须从本队队员中选择：%(p)s 不是本队队员。") % {
                    "p": p.name})
            changes["leader_id"] = p.pk if p else None
        if active is not KEEP:
            changes["active"] = bool(active)
        changes = {k: v for k, v in changes.items() if getattr(t, k) != v}
        if not changes:
            return t
        if "name" in changes and Team.objects.filter(community_id=t.community_id, name=changes["name"]).exists():
            raise Conflict("duplicate_team", _("本社区已有名为“%(n)s”的志愿服务队。") % {"n": changes["name"]})
        before = {k: getattr(t, k) for k in changes}
        Team.objects.filter(pk=t.pk).update(version=F("version") + 1, **changes)
        if changes.get("leader_id"):
            TeamMember.objects.get_or_create(team=t, person_id=changes["leader_id"])
        audit.record(actor, "volunteering.team_update", t, before=before, after=changes)
        t.refresh_from_db()
        return t

    return _serialised(write)


def team_join(*, actor, team) -> TeamMember:
    person = _my_person(actor)

    def write():
        t = _locked(Team, _pk(team))
        if not t.active:
            raise Conflict("team_inactive", _("该队伍已停止招募。"))
        if TeamMember.objects.filter(team=t, person=person).exists():
            raise Conflict("already_member", _("您已经是“%(n)s”的队员。") % {"n": t.name})
        m = TeamMember.objects.create(team=t, person=person)
        audit.record(actor, "volunteering.team_join", t, after={"person": person.name})
        return m

    return _serialised(write)


def team_leave(*, actor, team) -> None:
    person = _my_person(actor)

    def write():
        t = _locked(Team, _pk(team))
        if t.leader_id == person.pk:
            raise Conflict("leader_cannot_leave", _("队长不能退出队伍，请先更换队长。"))
        if not TeamMember.objects.filter(team=t, person=person).delete()[0]:
            raise Conflict("not_member", _("您不是该队伍的队员。"))
        audit.record(actor, "volunteering.team_leave", t, before={"person": person.name})

    _serialised(write)


# ---- activities ----

def can_organise(user, activity: Activity) -> bool:
    """Who runs an activity: its community's workers, its unit's liaison, or its team's leader."""
    if scopes.can(user, MANAGE, activity) or scopes.can(user, ORGANISE, activity):
        return True
    if activity.team_id and activity.team.leader_id:
        person = person_of(user)
        return person is not None and activity.team.leader_id == person.pk
    return False


def _new_code() -> str:
    for _i in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _j in range(6))
        if not Activity.objects.filter(code=code).exists():
            return code
    raise Conflict("busy", _("系统正忙，请稍后重试。"))  # pragma: no cover


def activity_create(*, actor, title, community, venue, starts_at, ends_at, capacity, hours=None,
                    organiser_kind=OrganiserKind.COMMUNITY, team=None, unit=None, description="",
                    publish=False) -> Activity:
    _require_login(actor)
    title = _text(title, field_label=_("活动名称"), max_len=TITLE_MAX)
    description = _text(description, field_label=_("活动内容"), max_len=TEXT_MAX, required=False)
    venue = _text(venue, field_label=_("活动地点"), max_len=VENUE_MAX)
    place = _community(community)
    starts = _when(starts_at, field_label=_("开始时间"))
    ends = _when(ends_at, field_label=_("结束时间"))
    if ends <= starts:
        raise ValidationFailed("ends_before_start", _("结束时间应晚于开始时间。"))
    capacity = _int(capacity, field_label=_("名额"), minimum=1, maximum=CAPACITY_MAX)
    if hours in (None, ""):
        duration = Decimal((ends - starts).total_seconds()) / Decimal(3600)
        if duration > 24:
            raise ValidationFailed("bad_hours", _("活动超过 24 小时，请填写计入时间银行的小时数。"))
        hours = max(duration, Decimal("0.1"))
    hours = _hours(hours)
    fields = {"title": title, "description": description, "venue": venue, "community": place,
              "starts_at": starts, "ends_at": ends, "capacity": capacity, "hours": hours,
              "created_by": actor, "organiser_kind": organiser_kind}
    if organiser_kind == OrganiserKind.TEAM:
        t = team if isinstance(team, Team) else Team.objects.filter(pk=_pk(team)).first()
        if t is None:
            raise ValidationFailed("bad_team", _("请选择组织活动的志愿服务队。"))
        if t.community_id != place.pk:
            raise ValidationFailed("team_elsewhere", _("“%(t)s”属于%(c)s，只能在本社区组织活动。") % {
                "t": t.name, "c": t.community.name})
        fields["team"] = t
    elif organiser_kind == OrganiserKind.UNIT:
        org = unit if isinstance(unit, Organization) else Organization.objects.filter(pk=_pk(unit)).first()
        if org is None:
            raise ValidationFailed("bad_unit", _("请选择组织活动的单位。"))
        fields["unit"] = org
    elif organiser_kind != OrganiserKind.COMMUNITY:
        raise ValidationFailed("bad_organiser", _("组织者只能是 志愿服务队、成员单位 或 社区。"))
    probe = Activity(**fields)
    probe.place_path = place.path
    if not can_organise(actor, probe):
        raise PermissionDenied("forbidden", _("您不能以该组织者的名义发布活动。"))
    if publish and ends <= timezone.now():
        raise ValidationFailed("in_the_past", _("活动已结束，不能发布。"))

    def write():
        a = Activity(**fields)
        if publish:
            a.state = ActivityState.PUBLISHED
            a.code = _new_code()
        a.save()
        audit.record(actor, "volunteering.activity_create", a,
                     after={"title": title, "starts_at": starts, "capacity": capacity, "hours": str(hours),
                            "state": a.state})
        return a

    return _serialised(write)


def _organiser_locked(actor, activity, version) -> Activity:
    a = _locked(Activity, _pk(activity), version)
    if not can_organise(actor, a):
        raise PermissionDenied("forbidden", _("只有活动的组织者可以执行此操作。"))
    return a


def activity_publish(*, actor, activity, version) -> Activity:
    _require_login(actor)

    def write():
        a = _organiser_locked(actor, activity, version)
        if a.state != ActivityState.DRAFT:
            raise Conflict("not_draft", _("只有草稿状态的活动可以发布。"))
        if a.ends_at <= timezone.now():
            raise ValidationFailed("in_the_past", _("活动已结束，不能发布。"))
        code = _new_code()
        Activity.objects.filter(pk=a.pk).update(state=ActivityState.PUBLISHED, code=code, version=F("version") + 1)
        audit.record(actor, "volunteering.activity_publish", a, before={"state": a.state},
                     after={"state": ActivityState.PUBLISHED})
        a.refresh_from_db()
        return a

    return _serialised(write)


def activity_update(*, actor, activity, version, title=KEEP, description=KEEP, venue=KEEP, starts_at=KEEP,
                    ends_at=KEEP, hours=KEEP) -> Activity:
    """Edit a draft or open activity. Once someone has checked in its time and hours stay as they are;
    people signed up (or waiting) are told when the time or venue changes."""
    _require_login(actor)

    def write():
        a = _organiser_locked(actor, activity, version)
        if a.state not in (ActivityState.DRAFT, ActivityState.PUBLISHED):
            raise Conflict("not_open", _("该活动已%(s)s，不能修改。") % {"s": a.get_state_display()})
        changes = {}
        if title is not KEEP:
            changes["title"] = _text(title, field_label=_("活动名称"), max_len=TITLE_MAX)
        if description is not KEEP:
            changes["description"] = _text(description, field_label=_("活动内容"), max_len=TEXT_MAX, required=False)
        if venue is not KEEP:
            changes["venue"] = _text(venue, field_label=_("活动地点"), max_len=VENUE_MAX)
        if starts_at is not KEEP:
            changes["starts_at"] = _when(starts_at, field_label=_("开始时间"))
        if ends_at is not KEEP:
            changes["ends_at"] = _when(ends_at, field_label=_("结束时间"))
        if hours is not KEEP:
            changes["hours"] = _hours(hours)
        # A form shows times to the minute: the same minute is no change.
        changes = {k: v for k, v in changes.items()
                   if getattr(a, k) != v and not (k in ("starts_at", "ends_at")
                                                   and getattr(a, k).replace(second=0, microsecond=0) == v)}
        if not changes:
            return a
        starts, ends = changes.get("starts_at", a.starts_at), changes.get("ends_at", a.ends_at)
        if ends <= starts:
            raise ValidationFailed("ends_before_start", _("结束时间应晚于开始时间。"))
        if {"starts_at", "ends_at", "hours"} & changes.keys() and a.signups.filter(checked_in_at__isnull=False).exists():
            raise Conflict("has_attendance", _("已有志愿者签到，不能再修改时间和计时。"))
        if a.state == ActivityState.PUBLISHED and ends <= timezone.now():
            raise ValidationFailed("in_the_past", _("结束时间不能早于现在。"))
        before = {k: getattr(a, k) for k in changes}
        Activity.objects.filter(pk=a.pk).update(version=F("version") + 1, **changes)
        audit.record(actor, "volunteering.activity_update", a, before=before, after=changes)
        a.refresh_from_db()
        if a.state == ActivityState.PUBLISHED and {"starts_at", "ends_at", "venue"} & changes.keys():
            live = a.signups.filter(state__in=(SignUpState.SIGNED, SignUpState.WAITING)).select_related("person__user")
            when = timezone.localtime(a.starts_at).strftime("%Y-%m-%d %H:%M")
            _notify([s.person.user for s in live], a, Msg(N_("活动有变动：%(t)s"), t=a.title),
                    Msg(N_("时间：%(w)s；地点：%(v)s"), w=when, v=a.venue), exclude=actor)
        return a

    return _serialised(write)


def activity_rotate_code(*, actor, activity) -> Activity:
    """A new check-in code (the old one stops working), e.g. when it was shared outside the venue."""
    _require_login(actor)

    def write():
        a = _organiser_locked(actor, activity, None)
        if a.state != ActivityState.PUBLISHED:
            raise Conflict("not_published", _("只有报名中的活动有签到码。"))
        code = _new_code()
        Activity.objects.filter(pk=a.pk).update(code=code, version=F("version") + 1)
        audit.record(actor, "volunteering.activity_rotate_code", a)
        a.refresh_from_db()
        return a

    return _serialised(write)


def activity_cancel(*, actor, activity, version, reason) -> Activity:
    _require_login(actor)
    reason = _text(reason, field_label=_("取消原因"), max_len=REASON_MAX)

    def write():
        a = _organiser_locked(actor, activity, version)
        if a.state not in (ActivityState.DRAFT, ActivityState.PUBLISHED):
            raise Conflict("not_open", _("该活动已%(s)s，不能取消。") % {"s": a.get_state_display()})
        if a.signups.filter(checked_in_at__isnull=False).exists():
            raise Conflict("has_attendance", _("已有志愿者签到，不能取消活动，请结束活动。"))
        Activity.objects.filter(pk=a.pk).update(state=ActivityState.CANCELLED, code="", summary=reason,
                                                version=F("version") + 1)
        live = list(a.signups.filter(state__in=(SignUpState.SIGNED, SignUpState.WAITING))
                    .select_related("person__user"))
        a.signups.filter(pk__in=[s.pk for s in live]).update(state=SignUpState.CANCELLED,
                                                              cancelled_at=timezone.now(),
                                                              version=F("version") + 1)
        _notify([s.person.user for s in live], a, Msg(N_("活动已取消：%(t)s"), t=a.title),
                Msg(N_("取消原因：%(r)s"), r=reason), exclude=actor)
        audit.record(actor, "volunteering.activity_cancel", a, before={"state": a.state},
                     after={"state": ActivityState.CANCELLED, "reason": reason, "signups": len(live)})
        a.refresh_from_db()
        return a

    return _serialised(write)


def activity_finish(*, actor, activity, version, summary, beneficiaries) -> Activity:
    """End a published activity; anyone still checked in is checked out at this moment and credited
    by `credited_hours` (clipped to the activity's end)."""
    _require_login(actor)
    summary = _text(summary, field_label=_("活动总结"), max_len=TEXT_MAX)
    beneficiaries = _int(beneficiaries, field_label=_("服务人数"), minimum=0, maximum=BENEFICIARIES_MAX)

    def write():
        a = _organiser_locked(actor, activity, version)
        if a.state != ActivityState.PUBLISHED:
            raise Conflict("not_published", _("只有报名中的活动可以结束（现在是“%(s)s”）。") % {
                "s": a.get_state_display()})
        now = timezone.now()
        if now < a.starts_at:
            raise ValidationFailed("not_started", _("活动还没开始，不能结束。"))
        # Whoever is still checked in is checked out now, by the same rule as everyone else.
        present = list(SignUp.objects.select_for_update(of=("self",)).select_related("person")
                       .filter(activity=a, checked_in_at__isnull=False, checked_out_at__isnull=True))
        for s in present:
            _do_check_out(actor, a, s, at=now)
        Activity.objects.filter(pk=a.pk).update(state=ActivityState.FINISHED, summary=summary, code="",
                                                beneficiaries=beneficiaries, finished_at=now,
                                                version=F("version") + 1)
        audit.record(actor, "volunteering.activity_finish", a, before={"state": a.state},
                     after={"state": ActivityState.FINISHED, "beneficiaries": beneficiaries,
                            "checked_out": len(present)})
        a.refresh_from_db()
        return a

    return _serialised(write)


def _notify(users, activity, title: Msg, body: Msg, exclude=None):
    """Volunteers hear of their activity (kind ACTIVITY: not a work assignment)."""
    from gongzhi.notifications import services as notifications
    from gongzhi.notifications.models import Kind

    notifications.notify([u for u in users if u is not None], kind=Kind.ACTIVITY, title=title, body=body,
                         link=f"/volunteering/activities/{activity.pk}/", target=f"activity:{activity.pk}",
                         exclude=exclude)


# ---- sign-up and wait list ----

def signup_create(*, actor, activity, person=None) -> SignUp:
    """Sign up while places remain, else join the wait list. The activity row is locked, so concurrent
    sign-ups queue here and the count they see is the true one. An organiser may sign up someone else
    (`person`, e.g. an elderly volunteer without a phone)."""
    on_behalf = person not in (None, "")
    person = _person(person, _("报名人")) if on_behalf else _my_person(actor)

    def write():
        a = Activity.objects.select_for_update(of=("self",)).filter(pk=_pk(activity)).first()
        if a is None or a.state == ActivityState.DRAFT:
            raise NotFound("activity_not_found", _("活动不存在。"))
        if on_behalf and person.user_id != actor.pk and not can_organise(actor, a):
            raise PermissionDenied("forbidden", _("只有活动的组织者可以替他人报名。"))
        now = timezone.now()
        if a.state != ActivityState.PUBLISHED or a.ends_at <= now:
            raise Conflict("closed", _("该活动已不接受报名。"))
        if a.signups.filter(person=person, state__in=(SignUpState.SIGNED, SignUpState.WAITING)).exists():
            raise Conflict("already_signed_up", _("您已经报名（或在候补名单中）了。"))
        taken = a.signups.filter(state=SignUpState.SIGNED).count()
        state = SignUpState.SIGNED if taken < a.capacity else SignUpState.WAITING
        s = SignUp.objects.create(activity=a, person=person, state=state, queued_at=now)
        audit.record(actor, "volunteering.signup", s, after={"activity": a.title, "state": state})
        return s

    return _serialised(write)


def signup_cancel(*, actor, signup) -> SignUp:
    """Cancel one's own sign-up (or, as organiser, anyone's); a freed place goes to the first in line."""
    _require_login(actor)

    def write():
        s = SignUp.objects.select_related("person").filter(pk=_pk(signup)).first()
        if s is None:
            raise NotFound("signup_not_found", _("报名记录不存在。"))
        a = Activity.objects.select_for_update(of=("self",)).get(pk=s.activity_id)
        s = SignUp.objects.select_for_update(of=("self",)).select_related("person").get(pk=s.pk)
        if s.person.user_id != actor.pk and not can_organise(actor, a):
            raise PermissionDenied("forbidden", _("只能取消自己的报名。"))
        if s.state == SignUpState.CANCELLED:
            raise Conflict("already_cancelled", _("该报名已经取消。"))
        if s.checked_in_at is not None:
            raise Conflict("checked_in", _("已经签到，不能再取消报名。"))
        if a.state != ActivityState.PUBLISHED:
            raise Conflict("closed", _("活动已%(s)s，不能再取消报名。") % {"s": a.get_state_display()})
        now = timezone.now()
        SignUp.objects.filter(pk=s.pk).update(state=SignUpState.CANCELLED, cancelled_at=now,
                                              version=F("version") + 1)
        audit.record(actor, "volunteering.signup_cancel", s, before={"state": s.state},
                     after={"state": SignUpState.CANCELLED})
        if s.state == SignUpState.SIGNED:
            _promote(actor, a, now)
        s.refresh_from_db()
        return s

    return _serialised(write)


def _promote(actor, a: Activity, now) -> list[SignUp]:
    """Fill free places from the wait list, first come first served (the activity row is locked)."""
    free = a.capacity - a.signups.filter(state=SignUpState.SIGNED).count()
    promoted = []
    if free <= 0:
        return promoted
    for w in a.signups.filter(state=SignUpState.WAITING).select_related("person__user").order_by("queued_at", "id")[
            :free]:
        SignUp.objects.filter(pk=w.pk).update(state=SignUpState.SIGNED, promoted_at=now, version=F("version") + 1)
        audit.record(actor, "volunteering.signup_promote", w, before={"state": SignUpState.WAITING},
                     after={"state": SignUpState.SIGNED})
        _notify([w.person.user], a, Msg(N_("候补成功：%(t)s"), t=a.title),
                Msg(N_("有人取消了报名，您已从候补名单转为正式报名，请按时参加。")))
        promoted.append(w)
    return promoted


def activity_set_capacity(*, actor, activity, version, capacity) -> Activity:
    """Change the number of places: more places promote from the wait list; fewer than signed up is refused."""
    _require_login(actor)
    capacity = _int(capacity, field_label=_("名额"), minimum=1, maximum=CAPACITY_MAX)

    def write():
        a = _organiser_locked(actor, activity, version)
        if a.state not in (ActivityState.DRAFT, ActivityState.PUBLISHED):
            raise Conflict("not_open", _("该活动已%(s)s，不能修改名额。") % {"s": a.get_state_display()})
        signed = a.signups.filter(state=SignUpState.SIGNED).count()
        if capacity < signed:
            raise ValidationFailed("below_signed", _("已有 %(n)d 人报名，名额不能少于报名人数。") % {"n": signed})
        Activity.objects.filter(pk=a.pk).update(capacity=capacity, version=F("version") + 1)
        audit.record(actor, "volunteering.activity_capacity", a, before={"capacity": a.capacity},
                     after={"capacity": capacity})
        a.refresh_from_db()
        _promote(actor, a, timezone.now())
        return a

    return _serialised(write)


# ---- check-in and check-out ----

def _code(value) -> str:
    code = clean_text(str(value or "")).strip().upper().replace(" ", "")
    if not code:
        raise ValidationFailed("code_required", _("请输入现场公布的签到码。"))
    if len(code) != 6:
        raise ValidationFailed("bad_code", _("签到码应为 6 位字母或数字。"))
    return code


def _attendance_row(actor, code) -> tuple[Activity, SignUp]:
    person = _my_person(actor)
    code = _code(code)
    a = Activity.objects.select_for_update(of=("self",)).filter(code=code, state=ActivityState.PUBLISHED).first()
    if a is None:
        raise ValidationFailed("wrong_code", _("签到码不正确或已失效，请核对现场公布的签到码。"))
    s = (SignUp.objects.select_for_update(of=("self",)).filter(activity=a, person=person)
         .exclude(state=SignUpState.CANCELLED).first())
    if s is None:
        raise ValidationFailed("not_signed_up", _("您没有报名“%(t)s”，不能签到。") % {"t": a.title})
    _check_attendable(a, s)
    return a, s


def _check_attendable(a: Activity, s: SignUp) -> None:
    if a.state != ActivityState.PUBLISHED:
        raise Conflict("closed", _("活动已%(s)s，不能再签到或签退。") % {"s": a.get_state_display()})
    if s.state == SignUpState.WAITING:
        raise ValidationFailed("on_wait_list", _("您还在候补名单中，转为正式报名后才能签到。"))
    if s.state != SignUpState.SIGNED:
        raise ValidationFailed("not_signed_up", _("该报名已取消，不能签到。"))
    now = timezone.now()
    if now < a.starts_at - GRACE:
        raise ValidationFailed("too_early", _("活动 %(t)s 开始，开始前 30 分钟内才能签到。") % {
            "t": timezone.localtime(a.starts_at).strftime("%m-%d %H:%M")})
    if now > a.ends_at + GRACE:
        raise ValidationFailed("too_late", _("活动已结束超过 30 分钟，不能再签到或签退。"))


def _do_check_in(actor, a: Activity, s: SignUp) -> SignUp:
    if s.checked_in_at is not None:
        raise Conflict("already_checked_in", _("已经签到过了。"))
    SignUp.objects.filter(pk=s.pk).update(checked_in_at=timezone.now(), version=F("version") + 1)
    audit.record(actor, "volunteering.check_in", s, after={"activity": a.title, "person": s.person_id})
    s.refresh_from_db()
    return s


def min_stay() -> dt.timedelta:
    """The shortest stay that earns hours: GONGZHI_VOLUNTEER_MIN_STAY_MINUTES (default 15); a value
    that is not a whole number of minutes ≥ 0 falls back to the default."""
    raw = str(getattr(settings, "VOLUNTEER_MIN_STAY_MINUTES", MIN_STAY_DEFAULT_MINUTES)).strip()
    minutes = int(raw) if raw.isdigit() else MIN_STAY_DEFAULT_MINUTES
    return dt.timedelta(minutes=minutes)


def _min_stay_for(a: Activity) -> dt.timedelta:
    """At least one credit step (a shorter stay would round to 0 h), at most the activity's length
    (else nobody could earn the hours of an activity shorter than the minimum)."""
    return min(max(min_stay(), CREDIT_STEP), a.ends_at - a.starts_at)


def credited_hours(a: Activity, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> Decimal:
    """The hours a stay at activity `a` earns in the time bank; the one rule for every check-out.

    - Presence is the time actually there, clipped to the activity's times:
      min(check-out, end) − max(check-in, start); nothing if that is not positive.
    - A stay shorter than the minimum stay (GONGZHI_VOLUNTEER_MIN_STAY_MINUTES, default 15 minutes;
      for an activity shorter than that, its whole length) earns nothing: Decimal("0").
    - Otherwise presence is rounded DOWN to a tenth of an hour (whole 6 minutes: 44 min → 0.7 h,
      2 h 05 min → 2.0 h), and never more than the activity's own hours (the organiser's stated credit).
    - A stay spanning the whole activity earns exactly the activity's hours.
    """
    start, end = max(checked_in_at, a.starts_at), min(checked_out_at, a.ends_at)
    present = end - start
    if present <= dt.timedelta(0) or present < _min_stay_for(a):
        return Decimal("0")
    if start == a.starts_at and end == a.ends_at:
        return a.hours
    tenths = present // CREDIT_STEP
    return min(Decimal(tenths) / 10, a.hours).quantize(Decimal("0.1"))


def credit_note(s: SignUp, *, by_hand: bool = False) -> str:
    """What a check-out credited, in words: the hours, or that the stay was below the minimum and
    earned none. `by_hand`: the organiser's phrasing, naming the volunteer."""
    if s.checked_out_at is None:
        return ""
    a = s.activity
    if s.hours_credited:
        if by_hand:
            return _("已代为签退：%(p)s，%(h)s 时间币已存入时间银行。") % {"p": s.person.name, "h": s.hours_credited}
        return _("签退成功：%(t)s，%(h)s 时间币已存入您的时间银行。") % {"t": a.title, "h": s.hours_credited}
    minutes = math.ceil(_min_stay_for(a).total_seconds() / 60)
    if by_hand:
        return _("已代为签退：%(p)s。在场时间不足 %(m)d 分钟，本次不计入时间银行。") % {"p": s.person.name, "m": minutes}
    return _("已签退：%(t)s。在场时间不足 %(m)d 分钟，本次不计入时间银行。") % {"t": a.title, "m": minutes}


def _do_check_out(actor, a: Activity, s: SignUp, at: dt.datetime | None = None) -> SignUp:
    """Check out (at `at`, default now) and credit the hours the stay earns (`credited_hours`) to the
    member's time bank, in the caller's transaction. A stay too short to credit is checked out with
    no hours (hours_credited stays empty)."""
    if s.checked_in_at is None:
        raise ValidationFailed("not_checked_in", _("请先签到，再签退。"))
    if s.checked_out_at is not None:
        raise Conflict("already_checked_out", _("已经签退过了。"))
    at = at or timezone.now()
    hours = credited_hours(a, s.checked_in_at, at)
    if SignUp.objects.filter(pk=s.pk, checked_out_at__isnull=True).update(
            checked_out_at=at, hours_credited=hours or None, version=F("version") + 1) != 1:
        raise Conflict("already_checked_out", _("已经签退过了。"))  # pragma: no cover
    if hours:
        from gongzhi.timebank import services as tb

        tb.credit_hours(person=s.person, hours=hours, source="activity", source_ref=f"{a.pk}:{s.person_id}",
                        memo=a.title, actor=actor)
    audit.record(actor, "volunteering.check_out", s, after={"activity": a.title, "person": s.person_id,
                                                            "hours": str(hours)})
    s.refresh_from_db()
    return s


def check_in(*, actor, code) -> SignUp:
    """A signed-up member checks in with the code shown at the venue."""
    return _serialised(lambda: _do_check_in(actor, *_attendance_row(actor, code)))


def check_out(*, actor, code) -> SignUp:
    """A checked-in member checks out with the code; the hours the stay earns (`credited_hours`) go to
    their time bank."""
    return _serialised(lambda: _do_check_out(actor, *_attendance_row(actor, code)))


def attendance_mark(*, actor, signup, direction) -> SignUp:
    """The organiser checks someone in or out by hand (no phone, forgot to scan): same rules, no code."""
    _require_login(actor)
    if direction not in ("in", "out"):
        raise ValidationFailed("bad_direction", _("只能是签到或签退。"))

    def write():
        row = SignUp.objects.filter(pk=_pk(signup)).first()
        if row is None:
            raise NotFound("signup_not_found", _("报名记录不存在。"))
        a = Activity.objects.select_for_update(of=("self",)).get(pk=row.activity_id)
        if not can_organise(actor, a):
            raise PermissionDenied("forbidden", _("只有活动的组织者可以代为签到、签退。"))
        # Marking by hand is the organiser's power; for their own sign-up they scan the code like everyone.
        refuse_self(actor, row.person, message=_("不能为自己代签到、签退，请扫码签到或由其他组织者办理。"))
        s = SignUp.objects.select_for_update(of=("self",)).get(pk=row.pk)
        _check_attendable(a, s)
        return (_do_check_in if direction == "in" else _do_check_out)(actor, a, s)

    return _serialised(write)


def attendance_scan(*, actor, code) -> tuple[str, SignUp]:
    """The check-in page: the first scan checks in, the second checks out. Returns ("in"|"out", sign-up)."""
    person = _my_person(actor)
    c = _code(code)
    s = SignUp.objects.filter(activity__code=c, activity__state=ActivityState.PUBLISHED, person=person,
                              state=SignUpState.SIGNED).first()
    if s is not None and s.checked_in_at is not None:
        return "out", check_out(actor=actor, code=c)
    return "in", check_in(actor=actor, code=c)
