"""Meeting pages: the schedule, a new recurring series (逢四说事 in one click) or one-off meeting, one
series with its coming occurrences (cancel or move one), one meeting, and the calendar feeds
(public per community and committee, private per person by a secret URL)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.org.models import Organization
from gongzhi.places.models import Place

from . import feeds, recurrence, selectors, services
from .models import FORMS_OF, MeetingForm, MeetingKind, MeetingSeries

PRESETS = (("feng_si", gettext_lazy("逢四说事：每月4日、14日、24日")), ("weekly_thu", gettext_lazy("每周四")),
           ("custom", gettext_lazy("自定义规则（RFC 5545）")))


def _can_manage_any(user) -> bool:
    return scopes.can(user, services.MANAGE)


@login_required
def meeting_list(request):
    g = request.GET
    qs = selectors.meetings_for(request.user, place=g.get("place"), committee=g.get("committee"),
                                upcoming=g.get("when") != "past")
    if g.get("format") == "xlsx":  # the ledger names attendees: for those who oversee meetings, in their scope
        if not scopes.can(request.user, services.VIEW):
            raise PermissionDenied
        from . import exports
        from .models import Meeting

        rows = qs.filter(scopes.scope_q(request.user, services.VIEW, Meeting)).prefetch_related(
            "attendance", "agenda", "resolutions")[:5000]
        return exports.meetings_xlsx(rows)
    page = Paginator(qs, 30).get_page(g.get("page"))
    return render(request, "deliberation/meetings.html", {
        "page": page, "filters": g, "manage": _can_manage_any(request.user),
        "oversee": scopes.can(request.user, services.VIEW),
        "series": selectors.series_for(request.user, place=g.get("place"), committee=g.get("committee")),
    })


def _forms():
    return [(k.value, k.label, [(f.value, f.label) for f in FORMS_OF[k]]) for k in MeetingKind]


@login_required
def series_new(request):
    posted = dict(request.POST.items()) if request.method == "POST" else {
        "kind": MeetingKind.DELIBERATION, "form": MeetingForm.FENG_SI, "preset": "feng_si", "duration_minutes": "90",
        "title": _("逢四说事"), "dtstart": ""}
    error, status = None, 200
    if request.method == "POST":
        preset = posted.get("preset", "custom")
        rule = recurrence.PRESETS.get(preset) or posted.get("rule", "")
        try:
            s = services.series_create(actor=request.user, kind=posted.get("kind"), form=posted.get("form"),
                                       title=posted.get("title"), rule=rule, dtstart=posted.get("dtstart"),
                                       duration_minutes=posted.get("duration_minutes"),
                                       location=posted.get("location", ""), place=posted.get("place") or None,
                                       committee=posted.get("committee") or None)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("议事安排已创建，未来 90 天的活动已排好。"))
            return redirect("deliberation:series", pk=s.pk)
    return render(request, "deliberation/series_new.html", {
        "posted": posted, "error": error, "forms": _forms(), "presets": PRESETS}, status=status)


@login_required
def meeting_new(request):
    posted = dict(request.POST.items()) if request.method == "POST" else {"kind": MeetingKind.JOINT,
                                                                         "form": MeetingForm.QUARTERLY}
    error, status = None, 200
    if request.method == "POST":
        try:
            m = services.meeting_create(actor=request.user, kind=posted.get("kind"), form=posted.get("form"),
                                        title=posted.get("title"), starts_at=posted.get("starts_at"),
                                        ends_at=posted.get("ends_at"), location=posted.get("location", ""),
                                        place=posted.get("place") or None, committee=posted.get("committee") or None,
                                        convener=posted.get("convener") or None)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("会议已安排。"))
            return redirect("deliberation:meeting", pk=m.pk)
    return render(request, "deliberation/meeting_new.html", {"posted": posted, "error": error, "forms": _forms()},
                  status=status)


@login_required
def series_detail(request, pk: int):
    s = MeetingSeries.objects.select_related("place", "committee").filter(pk=pk).first()
    if s is None:
        raise Http404
    now = timezone.now()
    coming = selectors.series_occurrences(s, now, now + services.HORIZON)
    return render(request, "deliberation/series_detail.html", {
        "s": s, "coming": coming, "describe": recurrence.describe(s.rule, get_language() or "zh"),
        "manage": scopes.can(request.user, services.MANAGE, s),
    })


@login_required
@require_POST
def series_act(request, pk: int, action: str):
    p = request.POST
    try:
        if action == "cancel-one":
            services.series_exception(actor=request.user, series=pk, original_start=p.get("original_start"),
                                      cancel=True, reason=p.get("reason", ""))
            messages.success(request, _("这一次活动已取消，其余照常。"))
        elif action == "move-one":
            services.series_exception(actor=request.user, series=pk, original_start=p.get("original_start"),
                                      cancel=False, new_start=p.get("new_start"), new_end=p.get("new_end") or None,
                                      reason=p.get("reason", ""))
            messages.success(request, _("这一次活动已改期，其余照常。"))
        elif action == "stop":
            n = services.series_stop(actor=request.user, series=pk)
            messages.success(request, _("议事安排已停止，取消了之后的 %(n)s 次活动。") % {"n": n})
        else:
            messages.error(request, _("不支持的操作。"))
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
    return redirect("deliberation:series", pk=pk)


@login_required
def meeting_detail(request, pk: int):
    try:
        m = services.meeting_of(pk)
    except GongzhiError:
        raise Http404 from None
    manage = scopes.can(request.user, services.MANAGE, m)
    return render(request, "deliberation/meeting_detail.html", {
        "m": m, "manage": manage, "agenda": list(m.agenda.all()),
        "attendance": list(m.attendance.all()) if manage else None, "attendance_count": m.attendance.count(),
        "resolutions": list(m.resolutions.prefetch_related("actions")),
        "started": m.starts_at <= timezone.now(), "today": timezone.localdate()})


@login_required
@require_POST
def meeting_cancel(request, pk: int):
    try:
        services.meeting_cancel(actor=request.user, meeting=pk, reason=request.POST.get("reason", ""))
        messages.success(request, _("会议已取消。"))
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
    return redirect("deliberation:meeting", pk=pk)


# ---- calendar feeds ----

def _ics(body: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    resp["Content-Disposition"] = f'inline; filename="{name}.ics"'
    resp["Cache-Control"] = "private, max-age=300"
    return resp


def feed_community(request, place_id: int):
    place = Place.objects.filter(pk=place_id).first()
    if place is None:
        raise Http404
    return _ics(feeds.community_feed(place), f"community-{place_id}")


def feed_committee(request, org_id: int):
    committee = Organization.objects.filter(pk=org_id, kind__in=services.COMMITTEE_KINDS).first()
    if committee is None:
        raise Http404
    return _ics(feeds.committee_feed(committee), f"committee-{org_id}")


def feed_personal(request, token: str):
    user = services.user_for_feed_token(token)
    if user is None:
        raise Http404
    return _ics(feeds.personal_feed(user), "gongzhi")


@login_required
def calendar_page(request):
    token = None
    if request.method == "POST":
        try:
            token = services.feed_token_reset(actor=request.user)
        except GongzhiError as exc:
            messages.error(request, str(exc.message))
    private_url = request.build_absolute_uri(reverse("deliberation:feed_personal", args=[token])) if token else None
    person_place = selectors.home_community(request.user)
    return render(request, "deliberation/calendar.html", {
        "private_url": private_url, "has_token": services.has_feed_token(request.user),
        "community": person_place,
        "community_url": request.build_absolute_uri(reverse("deliberation:feed_community", args=[person_place.pk]))
        if person_place else None,
        "committees": [(c, request.build_absolute_uri(reverse("deliberation:feed_committee", args=[c.pk])))
                       for c in selectors.committees_visible_to(request.user)[:20]],
    })



# ---- proceedings: agenda, attendance, minutes, resolutions, action items ----

@login_required
@require_POST
def meeting_act(request, pk: int, action: str):
    p = request.POST
    try:
        if action == "agenda":
            services.agenda_add(actor=request.user, meeting=pk, title=p.get("title", ""), detail=p.get("detail", ""),
                                appeal=p.get("appeal") or None, need=p.get("need") or None,
                                proposal=p.get("proposal") or None, raised_by=p.get("raised_by", ""))
            messages.success(request, _("议题已加入议程。"))
        elif action == "code":
            services.attendance_code(actor=request.user, meeting=pk)
        elif action == "attendance":
            services.attendance_mark(actor=request.user, meeting=pk, name=p.get("name", ""))
            messages.success(request, _("已登记签到。"))
        elif action == "minutes":
            services.meeting_hold(actor=request.user, meeting=pk, minutes=p.get("minutes", ""))
            messages.success(request, _("会议纪要已保存。"))
        elif action == "resolution":
            owner = (f"org:{p['owner_org']}" if p.get("owner_org") else
                     f"person:{p['owner_person']}" if p.get("owner_person") else "")
            actions = [{"title": p.get("action_title") or p.get("text", ""), "owner": owner, "due_on": p.get("due_on")}] \
                if (p.get("owner_org") or p.get("owner_person") or p.get("due_on")) else []
            services.resolution_add(actor=request.user, meeting=pk, text=p.get("text", ""),
                                    agenda_item=p.get("agenda_item") or None, actions=actions)
            messages.success(request, _("决议已登记，督办事项已通知责任方。"))
        else:
            messages.error(request, _("不支持的操作。"))
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
    return redirect("deliberation:meeting", pk=pk)


@login_required
def sign_in(request):
    result, error, status = None, None, 200
    if request.method == "POST":
        try:
            result = services.attendance_sign_in(actor=request.user, code=request.POST.get("code", ""))
        except GongzhiError as exc:
            error, status = exc.message, exc.status
    return render(request, "deliberation/sign_in.html", {"result": result, "error": error}, status=status)


@login_required
def action_list(request):
    state = request.GET.get("state", "open")
    qs = services.actions_visible_to(request.user)
    if state in ("open", "done"):
        qs = qs.filter(state=state)
    elif state == "overdue":  # the desk's red figure: open and past due
        qs = qs.filter(state="open", due_on__lt=timezone.localdate())
    page = Paginator(qs.order_by("due_on", "id"), 30).get_page(request.GET.get("page"))
    if request.GET.get("format") == "xlsx":
        from . import exports

        return exports.actions_xlsx(qs.order_by("due_on", "id"))
    doable = {a.pk for a in page if a.state == "open" and (services.is_owner(request.user, a) or scopes.can(
        request.user, services.MANAGE, a.resolution.meeting))}
    return render(request, "deliberation/actions.html", {"page": page, "state": state, "doable": doable,
                                                         "today": timezone.localdate()})


@login_required
@require_POST
def action_done(request, pk: int):
    try:
        services.action_done(actor=request.user, action=pk, note=request.POST.get("note", ""))
        messages.success(request, _("督办事项已办结。"))
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
    return redirect(request.POST.get("next") or reverse("deliberation:actions"))
