"""Volunteering pages: the activity calendar with sign-up, one activity (organiser tools, code and QR,
attendance, finish), the mobile check-in page, teams, the dual-reporting register and year-end records.

Thin: parse, call a service or selector, render. Refusals come back as a message on the page
with the service's status.
"""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import bounds, scopes
from gongzhi.core.errors import GongzhiError, NotFound, ValidationFailed
from gongzhi.org.models import Organization
from gongzhi.places.models import Place, PlaceKind

from . import exports, selectors, services
from .models import ActivityState, OrganiserKind, ReportKind, ReportState, SignUpState, Team


def _day(value) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return day if bounds.in_range(day) else None


def _default_community(user) -> str:
    """The community a new activity or team is preselected with: the one the actor manages, when
    there is exactly one, else where they live (they pick another with the searchable picker)."""
    mine = Place.objects.filter(kind=PlaceKind.COMMUNITY).filter(scopes.scope_q(user, services.MANAGE, Place))
    ids = list(mine.values_list("pk", flat=True)[:2]) if not user.is_superuser else []
    if len(ids) == 1:
        return str(ids[0])
    person = services.person_of(user)
    return str(person.registered_community_id) if person and person.registered_community_id else ""


def _liaison_units(user):
    return Organization.objects.filter(scopes.scope_q(user, services.ORGANISE, Organization))


def _back(request, fallback):
    return redirect(request.POST.get("next") or fallback)


def _run(request, fn, ok_message, fallback):
    """Run a POSTed action; on refusal show its message. Returns (result or None)."""
    try:
        result = fn()
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
        return None
    if ok_message:
        messages.success(request, ok_message)
    return result


# ---- activities ----

@login_required
def activity_list(request):
    g = request.GET
    view = "week" if g.get("view") == "week" else "month"
    on = _day(g.get("on")) or timezone.localdate()
    start, end = selectors.calendar_window(view=view, on=on)
    person = services.person_of(request.user)
    qs = selectors.filter_activities(
        selectors.activities_visible_to(request.user), start=start, end=end, state=g.get("state", ""),
        community=g.get("community"), team=g.get("team"), q=g.get("q", "").strip(),
        mine_person=person if g.get("mine") and person else None)
    page = Paginator(qs, 50).get_page(g.get("page"))
    mine = selectors.signup_states(page.object_list, person)
    days: dict = {}
    for a in page:
        days.setdefault(timezone.localtime(a.starts_at).date(), []).append((a, mine.get(a.pk)))
    step = dt.timedelta(days=7) if view == "week" else dt.timedelta(days=1)
    prev_on = (start - step) if view == "week" else (start - step).replace(day=1)
    keep = {k: g.get(k) for k in ("state", "community", "team", "q", "mine") if g.get(k)}
    return render(request, "volunteering/activities.html", {
        "days": sorted(days.items()), "page": page, "view": view, "start": start, "end": end - dt.timedelta(days=1),
        "prev_q": urlencode({**keep, "view": view, "on": prev_on.isoformat()}),
        "next_q": urlencode({**keep, "view": view, "on": end.isoformat()}),
        "page_q": urlencode({**keep, "view": view, "on": on.isoformat()}),
        "filters": g, "states": ActivityState.choices,
        "can_create": (scopes.can(request.user, services.MANAGE) or scopes.can(request.user, services.ORGANISE)
                       or (person is not None and Team.objects.filter(leader=person).exists())),
    })


ACTIVITY_FIELDS = ("title", "community", "organiser_kind", "team", "unit", "venue", "starts_at", "ends_at",
                   "capacity", "hours", "description")


@login_required
def activity_new(request):
    posted = {k: request.POST.get(k, "") for k in ACTIVITY_FIELDS} if request.method == "POST" else {
        "organiser_kind": OrganiserKind.COMMUNITY, "capacity": "20"}
    error, status = None, 200
    if request.method == "POST":
        try:
            a = services.activity_create(actor=request.user, publish=bool(request.POST.get("publish")), **posted)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("活动已创建。"))
            return redirect("volunteering:activity", pk=a.pk)
    if not posted.get("community"):
        posted["community"] = _default_community(request.user)
    return render(request, "volunteering/activity_new.html", {
        "posted": posted, "error": error, "kinds": OrganiserKind.choices}, status=status)


@login_required
def activity_detail(request, pk):
    a = selectors.activity_get_for(request.user, pk)
    person = services.person_of(request.user)
    mine = selectors.signup_of(a, person)
    organiser = services.can_organise(request.user, a)
    ctx = {"a": a, "mine": mine, "position": selectors.wait_position(mine), "counts": selectors.counts(a),
           "organiser": organiser, "now": timezone.now()}
    if organiser or scopes.can(request.user, services.VIEW, a):
        ctx["attendance"] = selectors.attendance(request.user, a)
    if organiser and a.code:
        ctx["checkin_url"] = request.build_absolute_uri(reverse("volunteering:checkin") + f"?code={a.code}")
    return render(request, "volunteering/activity_detail.html", ctx)


def _detail(pk):
    return reverse("volunteering:activity", args=[pk])


@login_required
@require_POST
def activity_signup(request, pk):
    s = _run(request, lambda: services.signup_create(actor=request.user, activity=pk), None, _detail(pk))
    if s is not None:
        if s.state == SignUpState.SIGNED:
            messages.success(request, _("报名成功。"))
        else:
            messages.info(request, _("名额已满，您已进入候补名单（第 %(n)d 位），有人取消后自动递补。") % {
                "n": selectors.wait_position(s)})
    return redirect(_detail(pk))


@login_required
@require_POST
def signup_cancel(request, pk, signup_id):
    _run(request, lambda: services.signup_cancel(actor=request.user, signup=signup_id), _("已取消报名。"), _detail(pk))
    return redirect(_detail(pk))


@login_required
@require_POST
def attendance_mark(request, pk, signup_id, direction):
    s = _run(request, lambda: services.attendance_mark(actor=request.user, signup=signup_id, direction=direction),
             None, None)
    if s is not None and direction == "in":
        messages.success(request, _("已代为签到。"))
    elif s is not None:  # a stay too short to credit is a warning, not a success
        (messages.success if s.hours_credited else messages.warning)(request, services.credit_note(s, by_hand=True))
    return redirect(_detail(pk))


@login_required
@require_POST
def activity_act(request, pk, action):
    p = request.POST
    v = p.get("version")
    actions = {
        "publish": (lambda: services.activity_publish(actor=request.user, activity=pk, version=v), _("活动已发布。")),
        "cancel": (lambda: services.activity_cancel(actor=request.user, activity=pk, version=v,
                                                    reason=p.get("reason", "")), _("活动已取消。")),
        "finish": (lambda: services.activity_finish(actor=request.user, activity=pk, version=v,
                                                    summary=p.get("summary", ""),
                                                    beneficiaries=p.get("beneficiaries", "")), _("活动已结束。")),
        "edit": (lambda: services.activity_update(
            actor=request.user, activity=pk, version=v, title=p.get("title", ""), venue=p.get("venue", ""),
            description=p.get("description", ""), starts_at=p.get("starts_at", ""), ends_at=p.get("ends_at", ""),
            hours=p.get("hours", "")), _("活动信息已保存。")),
        "rotate": (lambda: services.activity_rotate_code(actor=request.user, activity=pk), _("已更换签到码。")),
        "capacity": (lambda: services.activity_set_capacity(actor=request.user, activity=pk, version=v,
                                                            capacity=p.get("capacity", "")), _("名额已修改。")),
    }
    if action not in actions:
        raise NotFound("unknown_action", _("未知的操作。"))
    fn, ok = actions[action]
    _run(request, fn, ok, _detail(pk))
    return redirect(_detail(pk))


@login_required
def activity_attendance_export(request, pk):
    a = selectors.activity_get_for(request.user, pk)
    return exports.attendance_xlsx(a, selectors.attendance(request.user, a))


@login_required
def activity_qr(request, pk):
    a = selectors.activity_get_for(request.user, pk)
    if not services.can_organise(request.user, a) or not a.code:
        raise NotFound("no_code", _("该活动没有可用的签到码。"))
    import segno

    url = request.build_absolute_uri(reverse("volunteering:checkin") + f"?code={a.code}")
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2, xmldecl=False)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


@login_required
def checkin(request):
    code = (request.POST.get("code") if request.method == "POST" else request.GET.get("code")) or ""
    result, error, status = None, None, 200
    if request.method == "POST":
        try:
            direction, s = services.attendance_scan(actor=request.user, code=code)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            result = {"direction": direction, "signup": s, "activity": s.activity,
                      "note": services.credit_note(s)}
    return render(request, "volunteering/checkin.html", {"code": code, "result": result, "error": error},
                  status=status)


# ---- teams ----

@login_required
def team_list(request):
    qs = selectors.teams_visible_to(request.user, q=request.GET.get("q", "").strip(),
                                    community=request.GET.get("community"))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    person = services.person_of(request.user)
    my_ids = set(person.team_memberships.values_list("team_id", flat=True)) if person else set()
    return render(request, "volunteering/teams.html", {
        "page": page, "q": request.GET.get("q", ""), "my_ids": my_ids,
        "filters": request.GET,
        "can_create": services.may_form_teams(request.user)})


TEAM_FIELDS = ("name", "speciality", "description", "community", "leader", "unit")


@login_required
def team_new(request):
    posted = {k: request.POST.get(k, "") for k in TEAM_FIELDS} if request.method == "POST" else {}
    error, status = None, 200
    if request.method == "POST":
        try:
            t = services.team_create(actor=request.user, **posted)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("志愿服务队已组建。"))
            return redirect("volunteering:team", pk=t.pk)
    if not posted.get("community"):
        posted["community"] = _default_community(request.user)
    return render(request, "volunteering/team_new.html", {"posted": posted, "error": error}, status=status)


@login_required
def team_detail(request, pk):
    t = selectors.team_get(pk)
    person = services.person_of(request.user)
    members = t.memberships.select_related("person")
    return render(request, "volunteering/team_detail.html", {
        "t": t, "members": members, "is_member": bool(person and members.filter(person=person).exists()),
        "can_edit": services.can_edit_team(request.user, t),
        "activities": selectors.activities_visible_to(request.user).filter(team=t).order_by("-starts_at")[:20]})


@login_required
@require_POST
def team_act(request, pk, action):
    p = request.POST
    if action == "join":
        _run(request, lambda: services.team_join(actor=request.user, team=pk), _("已加入队伍。"), None)
    elif action == "leave":
        _run(request, lambda: services.team_leave(actor=request.user, team=pk), _("已退出队伍。"), None)
    elif action == "edit":
        _run(request, lambda: services.team_update(
            actor=request.user, team=pk, version=p.get("version"), name=p.get("name", ""),
            speciality=p.get("speciality", ""), description=p.get("description", ""),
            leader=p.get("leader", "")), _("队伍信息已保存。"), None)
    else:
        raise NotFound("unknown_action", _("未知的操作。"))
    return redirect("volunteering:team", pk=pk)


# ---- dual reporting ----

@login_required
def report_register(request):
    user = request.user
    g = request.GET
    person = services.person_of(user)
    staff = scopes.can(user, services.VIEW)
    units = list(_liaison_units(user).values_list("pk", flat=True)[:1])
    ctx = {"mine": selectors.my_reports(user), "person": person, "units": bool(units),
           "first_unit": units[0] if units else "", "year": services.current_year(),
           "staff": staff, "kinds": ReportKind.choices, "states": ReportState.choices, "filters": g,
           "in_service": bool(person and getattr(person, "party", None) and person.party.status == "in_service")}
    if staff:
        visible = selectors.reports_visible_to(user).filter(scopes.scope_q(user, services.VIEW,
                                                                           selectors.DualReport))
        rows = selectors.filter_reports(visible, kind=g.get("kind", ""), state=g.get("state", ""),
                                        year=g.get("year"), q=g.get("q", "").strip())
        if g.get("export") == "xlsx":
            return exports.reports_xlsx(rows)
        ctx["pending"] = visible.filter(state=ReportState.PENDING).order_by("submitted_at")[:50]
        ctx["page"] = Paginator(rows, 50).get_page(g.get("page"))
        ctx["page_q"] = urlencode({k: g.get(k) for k in ("kind", "state", "year", "q") if g.get(k)})
        ctx["can_decide"] = scopes.can(user, services.MANAGE)
        ctx["home_orgs"] = Organization.objects.filter(
            party_members__person__dual_reports__in=visible.filter(kind=ReportKind.MEMBER)).distinct()
    return render(request, "volunteering/reports.html", ctx)


@login_required
@require_POST
def report_submit(request):
    p = request.POST
    _run(request, lambda: services.report_submit(
        actor=request.user, kind=p.get("kind", ""), community=p.get("community") or None,
        organization=p.get("organization") or None, offer=p.get("offer", ""), year=p.get("year") or None),
        _("报到已提交，等待社区审核。"), None)
    return redirect("volunteering:reports")


@login_required
@require_POST
def report_act(request, pk, action):
    p = request.POST
    v = p.get("version")
    if action == "approve":
        _run(request, lambda: services.report_approve(actor=request.user, report=pk, version=v), _("已通过。"), None)
    elif action == "reject":
        _run(request, lambda: services.report_reject(actor=request.user, report=pk, version=v,
                                                     reason=p.get("reason", "")), _("已退回。"), None)
    elif action == "withdraw":
        _run(request, lambda: services.report_withdraw(actor=request.user, report=pk, version=v), _("已撤回。"),
             None)
    else:
        raise NotFound("unknown_action", _("未知的操作。"))
    return redirect("volunteering:reports")


@login_required
def member_records(request, org_id):
    org = Organization.objects.filter(pk=selectors._pk(org_id)).first()
    if org is None:
        raise NotFound("org_not_found", _("单位不存在。"))
    year = request.GET.get("year") or services.current_year()
    try:
        year = bounds.check_year(int(year))
    except ValueError:
        raise ValidationFailed("bad_year", _("年度应为四位数字。")) from None
    rows = selectors.member_record(request.user, org, year)
    if request.GET.get("format") == "xlsx":
        return exports.records_xlsx(org, year, rows)
    return render(request, "volunteering/records.html", {"org": org, "year": year, "rows": rows,
                                                         "now": timezone.now()})
