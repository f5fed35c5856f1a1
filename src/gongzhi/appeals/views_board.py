"""The dispatch board (调度台) for community workers and street officers: appeals nobody owns,
overdue ones, those waiting for the street's whistle, and hotspot warnings with their convert and
dismiss forms; plus the appeal page's panels for duplicate suggestions and proactive handling.

Thin, as views.py: parse, call a selector or a service, render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.errors import GongzhiError, NotFound, PermissionDenied, ValidationFailed
from gongzhi.org import search
from gongzhi.places.models import PlaceKind

from . import hotspots, present, selectors
from .models import OPEN_STATES, HotspotState, Source
from .permissions import allowed_actions, can_view, is_staff_in_scope
from .workflow import COMMUNITY_WORKER, STREET_OFFICER, Action

SECTIONS = (
    ("unassigned", gettext_lazy("待分派")),
    ("overdue", gettext_lazy("已逾期")),
    ("awaiting_whistle", gettext_lazy("待吹哨")),
    ("hotspots", gettext_lazy("热点预警")),
)
SECTION_HINTS = {
    "unassigned": gettext_lazy("没有首问负责人的未办结诉求（网格无在岗人员），请尽快指定处理人。"),
    "overdue": gettext_lazy("本环节已过时限的未办结诉求，最早到期的排在前面。"),
    "awaiting_whistle": gettext_lazy("已上报到街道、尚未吹哨派单的诉求。"),
    "hotspots": gettext_lazy("同一位置附近短期内反复出现的同类诉求。街道干部可转为一条未诉先办诉求统一处置，或说明原因后忽略。"),
}
PAGE_SIZE = 50
HOTSPOT_PAGE_SIZE = 20
MERGE_ROLES = frozenset({COMMUNITY_WORKER, STREET_OFFICER})


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationFailed("bad_cursor", _("分页游标无效，请从第一页重新开始。")) from None


def _board_context(request, *, section=None, error=None, posted=None):
    user = request.user
    if not selectors.can_use_board(user):
        raise PermissionDenied("forbidden", _("调度台只对社区工作者和街道干部开放。"))
    names = [name for name, _label in SECTIONS]
    section = section or request.GET.get("section") or names[0]
    if section not in names:
        raise ValidationFailed("bad_section", _("未知的调度台栏目：%(s)s") % {"s": section})
    filters = {k: (request.GET.get(k) or "").strip() for k in ("community", "grid", "category")}
    if filters["community"]:  # the picker offers the communities of the actor's dispatch scopes only
        _check_board_place(user, filters["community"])
    flt = selectors.board_filter(place_code=filters["community"], grid_code=filters["grid"],
                                 category_code=filters["category"])
    counts = selectors.board_counts(user, flt)
    now = timezone.now()
    ctx = {"section": section, "sections": [(n, label, counts.get(n, 0)) for n, label in SECTIONS],
           "hint": SECTION_HINTS[section], "filters": filters,
           "filter_qs": urlencode({k: v for k, v in filters.items() if v}),
           "categories": selectors.categories(),
           "grids": flt.place is not None and flt.place.kind == PlaceKind.COMMUNITY,
           "error": error, "posted": posted or {}, "first_page": not (request.GET.get("after")
                                                                     or request.GET.get("before")),
           "rows": [], "hotspots": [], "next_after": None, "next_before": None}
    if section == "hotspots":
        qs = selectors.hotspots_with_repeats(selectors.hotspots_for(user, HotspotState.OPEN, flt,
                                                                     dispatch_only=True))
        rows, ctx["next_before"] = selectors.keyset_page(qs, before=_int_or_none(request.GET.get("before")),
                                                         limit=HOTSPOT_PAGE_SIZE)
        ctx["hotspots"] = [{
            "h": h, "actions": hotspots.allowed_actions(user, h),
            "repeats": [a for a in h.appeals.all() if can_view(user, a)],
            "title": hotspots.default_title(h), "text": hotspots.default_text(h),
        } for h in rows]
    else:
        rows, ctx["next_after"] = selectors.due_keyset_page(selectors.board_appeals(user, section, flt, now),
                                                            after=request.GET.get("after"), limit=PAGE_SIZE)
        ctx["rows"] = [(a, present.is_overdue(a, now)) for a in rows]
    return ctx


def _check_board_place(user, code: str) -> None:
    """A community the board's picker offers, or a street inside the actor's dispatch scopes: the KPI
    page links a street's "overdue now" here by the street's code, and the board filters by any
    place's subtree."""
    try:
        search.pick_code(user, "community", code, purpose="board")
    except GongzhiError:
        from gongzhi.places.models import Place

        street = Place.objects.filter(code=code, kind=PlaceKind.STREET).first()
        if street is None or not (user.is_superuser or any(s.kind == "place" and street.path.startswith(s.path)
                                                          for s in selectors.dispatch_scopes(user))):
            raise


@login_required
def board(request):
    return render(request, "appeals/board.html", _board_context(request))


@login_required
@require_POST
def hotspot_act(request, hotspot_id: int, action: str):
    """Convert a hotspot (then land on the new proactive appeal) or dismiss it (back to the board)."""
    if action not in hotspots.HOTSPOT_SERVICES:
        raise NotFound("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    post = {k: request.POST.get(k, "") for k in ("title", "text", "reason")}
    try:
        if action == hotspots.CONVERT:
            h = hotspots.hotspot_convert(request.user, hotspot_id, post["title"], post["text"],
                                         version=request.POST.get("version"))
        else:
            h = hotspots.hotspot_dismiss(request.user, hotspot_id, post["reason"],
                                         version=request.POST.get("version"))
    except GongzhiError as exc:
        if exc.status == 404:
            raise
        ctx = _board_context(request, section="hotspots", error=exc.message,
                             posted={"hotspot": hotspot_id, "action": action, **post})
        return render(request, "appeals/board.html", ctx, status=exc.status)
    if action == hotspots.CONVERT:
        messages.success(request, _("已将热点预警转为未诉先办诉求 %(number)s，%(n)d 条重复诉求已关联。") % {
            "number": h.proactive_appeal.number, "n": h.appeal_count})
        return redirect("appeals:detail", number=h.proactive_appeal.number)
    messages.success(request, _("已忽略热点预警：%(category)s · %(grid)s。") % {
        "category": h.category.label, "grid": h.grid.name})
    return redirect(reverse("appeals:board") + "?section=hotspots")


def _time_apart(hours: float) -> str:
    if hours < 1:
        return _("相差不到 1 小时")
    if hours < 48:
        return _("相差 %(n)d 小时") % {"n": round(hours)}
    return _("相差 %(n)d 天") % {"n": round(hours / 24)}


def detail_panels(request, appeal) -> dict:
    """The appeal page's extra panels: likely duplicates (to staff who may merge), the repeats of a
    proactive appeal, and the proactive appeal a repeat is linked to. A fixed number of queries."""
    user = request.user
    out = {"duplicates": None, "repeats": None, "proactive": None, "proactive_visible": False,
           "hotspot_id": None, "duplicate_radius": selectors.duplicate_settings()[0]}
    staff = is_staff_in_scope(user, appeal, roles=MERGE_ROLES)
    if staff and appeal.state in OPEN_STATES:
        out["duplicates"] = [{
            "c": c, "time_apart": _time_apart(c.hours_apart),
            "can_merge": Action.MERGE in allowed_actions(user, c.appeal),
        } for c in selectors.duplicate_candidates(user, appeal)]
    if appeal.source == Source.PROACTIVE:
        out["repeats"] = selectors.repeats_of(user, appeal)
    if appeal.proactive_id:
        proactive = selectors.with_related().filter(pk=appeal.proactive_id).first()
        out["proactive"] = proactive
        out["proactive_visible"] = proactive is not None and can_view(user, proactive)
    if appeal.hotspot_id and present.sees_staff_events(user, appeal):
        out["hotspot_id"] = appeal.hotspot_id
        out["can_board"] = selectors.can_use_board(user)
    return out
