"""Appeal pages: submit on the map, my appeals, the inbox, and one appeal with the actions I may take;
the whistle form, a department's work-order inbox, one work order, and the street's rating form.

Thin: parse, call a service or selector, render. Action buttons come from allowed_actions (the
workflow table), so a page never offers what the service would refuse.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError, PermissionDenied
from gongzhi.org import search as pick_search

from . import comments, intake, present, selectors, services, staging
from .forms import AppealForm, RatingChoices
from .permissions import allowed_actions, allowed_work_order_actions, can_view_work_order
from .workflow import ACTION_LABELS, SUMMONS_ACTION_LABELS, Action, SummonsAction

# The inputs each action's form shows: (name, label, widget, required, choices).
ACTION_FIELDS = {
    Action.ACCEPT: [("note", gettext_lazy("说明（可不填）"), "text", False, None)],
    Action.HAND_ON: [("reason", gettext_lazy("上报原因"), "textarea", True, None)],
    Action.HAND_BACK: [("reason", gettext_lazy("退回原因"), "textarea", True, None)],
    Action.RESOLVE: [("note", gettext_lazy("办理结果"), "textarea", True, None),
                     ("photos", gettext_lazy("结果照片（可不传）"), "files", False, None)],
    Action.RATE: [("resolved", gettext_lazy("问题是否解决"), "radio", True, RatingChoices.RESOLVED),
                  ("satisfaction", gettext_lazy("满意度"), "radio", True, RatingChoices.SATISFACTION),
                  ("comment", gettext_lazy("评价意见（可不填）"), "textarea", False, None)],
    Action.REJECT: [("reason", gettext_lazy("不予受理的理由"), "textarea", True, None),
                    ("redirect_to", gettext_lazy("建议反映渠道（负责单位及联系方式）"), "text", True, None)],
    Action.MERGE: [("into", gettext_lazy("合并到的诉求编号"), "text", True, None),
                   ("note", gettext_lazy("说明（可不填）"), "text", False, None)],
    Action.CLOSE: [("note", gettext_lazy("说明（可不填）"), "text", False, None)],
}
# Buttons that change a lot or end the appeal get the form folded away behind a summary.
FOLDED = {Action.HAND_ON, Action.HAND_BACK, Action.REJECT, Action.MERGE, Action.CLOSE}


def page_photo_url(appeal, photo) -> dict:
    return {"id": photo.id, "url": reverse("appeals:photo", args=[appeal.number, photo.id])}


# The hidden field that carries a staged photo's token, and the box that removes it (appeals.staging).
STAGED_FIELD, UNSTAGE_FIELD = "staged_photo", "unstage"


def carry_photos(request, form, *, photos_field="photos") -> tuple[staging.Carried, int]:
    """A posted appeal form's photos, staged for the user (kept ones and new uploads): a browser
    cannot re-fill a file input, so whatever the outcome the page shows them again until submitted.

    Returns them with the status so far: 200, 400 with the refused photos named beside the photo
    field, or the status of a bad token (another user's, expired, forged: a form error, nothing changed).
    """
    tokens, drop = request.POST.getlist(STAGED_FIELD), request.POST.getlist(UNSTAGE_FIELD)
    try:
        carried = staging.carry(request.user, tokens=tokens, drop=drop, uploads=request.FILES.getlist("photos"))
    except GongzhiError as exc:
        form.add_error(None, str(exc.message))
        return staging.Carried(photos=staging.carried_quietly(
            request.user, [t for t in tokens if t not in drop])), exc.status
    for problem in carried.problems:
        form.add_error(photos_field, problem)
    return carried, 400 if carried.problems else 200


def replayed_submit(request):
    """The appeal a resent form (a double tap, a reload) already created, if any: found before its
    photos are looked at, since that appeal took them."""
    try:
        key = services.check_key(request.POST.get("idempotency_key"))
    except GongzhiError:
        return None
    return services.replay_submit(request.user, key)


@login_required
def appeal_new(request):
    # The photos are not the form's: carry_photos stages them, the submit attaches them by token.
    form = AppealForm(request.POST or None)
    status, staged = 200, []
    if request.method == "POST":
        appeal = replayed_submit(request)
        if appeal is None:
            carried, status = carry_photos(request, form)
            staged = carried.photos
            if status == 200 and not form.is_valid():
                status = 400
        if appeal is None and status == 200:
            d = form.cleaned_data
            try:
                appeal = services.appeal_submit(
                    actor=request.user, category=d["category"], urgency=d["urgency"], title=d["title"],
                    text=d["text"], lon=d["lon"], lat=d["lat"], anonymous=d["anonymous"],
                    idempotency_key=d["idempotency_key"], staged_photos=carried.tokens)
            except GongzhiError as exc:
                form.add_error("photos" if exc.code == "too_many_photos" else None, str(exc.message))
                status = exc.status
        if appeal is not None:
            messages.success(request, _("诉求已提交，编号 %(number)s。网格员会尽快联系您。") % {
                "number": appeal.number})
            return redirect("appeals:detail", number=appeal.number)
    return render(request, "appeals/new.html", {"form": form, "tile_url": settings.MAP_TILE_URL,
                                                "staged": staged}, status=status)


@login_required
def staged_photo(request, token: str):
    """A staged photo's thumbnail, for its owner only (anyone else: 404)."""
    photo = staging.get_for(request.user, token)
    resp = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    resp["Cache-Control"] = "private, no-store"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


@login_required
def appeal_mine(request):
    show = request.GET.get("show", "")
    page = Paginator(selectors.my_appeals(request.user, show), 30).get_page(request.GET.get("page"))
    return render(request, "appeals/mine.html", {"page": page, "waiting": intake.waiting_for(request.user),
                                                 "show": show})


INBOX_PAGE = 50


@login_required
def appeal_inbox(request):
    if not selectors.has_appeal_inbox(request.user):
        raise PermissionDenied("forbidden", _("待办诉求只对网格员、社区工作者和街道干部开放。"))
    # Keyset pages without a count, as the API: a busy worker's page costs the same at any depth and
    # at any size of the appeal table (a count of the open appeals was most of its time at 10 M).
    now = timezone.now()
    show = request.GET.get("show", "")
    if show == "rate":  # resolved (no deadline any more): newest first, keyset on id
        found, next_after = selectors.keyset_page(selectors.inbox_for(request.user, show, now),
                                                  before=request.GET.get("before"), limit=INBOX_PAGE)
    else:
        found, next_after = selectors.due_keyset_page(selectors.inbox_for(request.user, show, now),
                                                      after=request.GET.get("after"), limit=INBOX_PAGE)
    # The one-press action of each row: accept; on the "rate" list, whether the appeal itself is rated
    # here (a callback) rather than its departments' work orders.
    act = Action.RATE if show == "rate" else Action.ACCEPT
    rows = [(a, present.is_overdue(a, now), act in allowed_actions(request.user, a)) for a in found]
    cursor = "before" if show == "rate" else "after"
    return render(request, "appeals/inbox.html", {"rows": rows, "next_after": next_after, "show": show,
                                                  "cursor": cursor, "first_page": not request.GET.get(cursor)})


def _detail_context(request, appeal, *, error=None, posted_action=None, posted=None, whistle_rows=None):
    actions = []
    allowed = allowed_actions(request.user, appeal)
    for name in allowed:
        actions.append({
            "name": name, "label": ACTION_LABELS[name], "fields": ACTION_FIELDS.get(name, []),
            "folded": name in FOLDED and name != posted_action,
            "url": (reverse("appeals:whistle", args=[appeal.number]) if name == Action.WHISTLE
                    else reverse("appeals:act", args=[appeal.number, name])),
        })
    events = present.visible_events(request.user, appeal, selectors.timeline(appeal))
    work_orders = selectors.work_orders_of(appeal)
    staff = present.sees_staff_events(request.user, appeal)
    return {
        "appeal": appeal,
        "view": present.appeal_out(request.user, appeal, photo_url=page_photo_url,
                                   photos=selectors.photos_of(appeal)),
        "timeline": [(e, present.event_out(request.user, appeal, e, page_photo_url)) for e in events],
        "actions": actions,
        "error": error,
        "posted": posted or {},
        "tile_url": settings.MAP_TILE_URL,
        "work_orders": [(wo, present.work_order_out(request.user, wo, photo_url=page_photo_url,
                                                    photos=list(wo.photos.all()), with_appeal=False,
                                                    with_rating=staff), can_view_work_order(request.user, wo))
                        for wo in work_orders],
        "whistle": _whistle_context(appeal, whistle_rows) if Action.WHISTLE in allowed else None,
        # Staff who keep the needs list may turn what the appeal reveals into a need (诉求转化).
        "can_make_need": scopes.can(request.user, "lists.record", appeal.community),
        "can_comment": comments.may_comment(request.user, appeal),
    }


def _local_input(value) -> str:
    """A datetime as a datetime-local input's value (Asia/Shanghai, to the minute)."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _whistle_context(appeal, rows=None) -> dict:
    """The whistle form: per-row deadlines (category defaults) and a searchable picker per row
    (static/js/picker.js over /api/v1/pick/organization?for=whistle): no list of every organisation
    in the page. A row sent back after an error keeps its choice (if still summonable)."""
    respond_h, resolve_h = appeal.category.hours(appeal.urgency)
    now = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    report_default = _local_input(now + dt.timedelta(hours=respond_h))
    resolve_default = _local_input(now + dt.timedelta(hours=resolve_h))
    if not rows:
        rows = [{"organization": "", "report_due": report_default, "resolve_due": resolve_default}
                for _ in range(2)]
    chosen = [r["organization"] for r in rows if str(r["organization"]).isdigit() and len(r["organization"]) < 16]
    found = {str(o.pk): o for o in selectors.summonable_organizations(appeal).select_related("place", "parent")
             .filter(pk__in=chosen)}
    for row in rows:
        org = found.get(str(row["organization"]))
        if org is not None:
            choice = {**pick_search.describe(org), "value": str(org.pk)}
            row.update(choice=choice, choice_json=json.dumps(choice, ensure_ascii=False))
    return {"rows": rows, "respond_hours": respond_h, "resolve_hours": resolve_h,
            "report_default": report_default, "resolve_default": resolve_default}


@login_required
def appeal_detail(request, number: str):
    appeal = selectors.appeal_get_for(request.user, number)
    from .views_board import detail_panels  # duplicate suggestions and proactive handling (views_board.py)

    return render(request, "appeals/detail.html", {**_detail_context(request, appeal), **detail_panels(request, appeal)})


def _safe_next(request) -> str | None:
    nxt = request.POST.get("next", "")
    # Back to the list the button was pressed on: an appeals page, or the home page's desk.
    if (nxt == "/" or nxt.startswith("/appeals/")) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return None


@login_required
@require_POST
def appeal_whistle(request, number: str):
    """The whistle form: one row per organisation (blank rows are skipped), each with its deadlines."""
    orgs, reports, resolves = (request.POST.getlist(k) for k in ("organization", "report_due", "resolve_due"))
    rows, summons = [], []
    for i, org in enumerate(orgs):
        row = {"organization": org.strip(), "report_due": reports[i] if i < len(reports) else "",
               "resolve_due": resolves[i] if i < len(resolves) else ""}
        rows.append(row)
        if row["organization"]:
            summons.append({"organization_id": row["organization"], "report_due": row["report_due"],
                            "resolve_due": row["resolve_due"]})
    try:
        appeal = services.whistle_blow(actor=request.user, appeal=number, summons=summons,
                                       note=request.POST.get("note", ""), version=request.POST.get("version"))
    except GongzhiError as exc:
        appeal = selectors.appeal_get_for(request.user, number)
        ctx = _detail_context(request, appeal, error=exc.message, posted_action=Action.WHISTLE,
                              posted={"note": request.POST.get("note", "")}, whistle_rows=rows)
        return render(request, "appeals/detail.html", ctx, status=exc.status)
    messages.success(request, _("已吹哨：召集 %(n)d 个单位办理 %(number)s。") % {
        "n": len(summons), "number": appeal.number})
    return redirect("appeals:detail", number=appeal.number)


@login_required
@require_POST
def appeal_act(request, number: str, action: str):
    fields = {k: request.POST.get(k, "") for k in ("note", "reason", "redirect_to", "into", "resolved",
                                                    "satisfaction", "comment")}
    fields["photos"] = request.FILES.getlist("photos")
    try:
        appeal = services.appeal_act(actor=request.user, appeal=number, action=action,
                                     version=request.POST.get("version"), **fields)
    except GongzhiError as exc:
        # Re-show the appeal with the message (a 404 for the appeal itself propagates from here).
        appeal = selectors.appeal_get_for(request.user, number)
        posted = {k: v for k, v in fields.items() if k != "photos"}
        return render(request, "appeals/detail.html",
                      _detail_context(request, appeal, error=exc.message, posted_action=action, posted=posted),
                      status=exc.status)
    messages.success(request, _("已%(action)s：%(number)s（%(state)s）。") % {
        "action": ACTION_LABELS.get(action, action), "number": appeal.number, "state": appeal.get_state_display()})
    return redirect(_safe_next(request) or reverse("appeals:detail", args=[appeal.number]))


@login_required
def appeal_photo(request, number: str, photo_id: int):
    photo = services.photo_get_for(request.user, number, photo_id)
    resp = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


# ---- work orders ----

SCORES = [(str(n), str(n)) for n in range(5, 0, -1)]
WORK_ORDER_FIELDS = {
    SummonsAction.REPORT: [("note", gettext_lazy("说明（可不填）"), "text", False, None)],
    SummonsAction.RESOLVE: [("note", gettext_lazy("办理结果"), "textarea", True, None),
                            ("photos", gettext_lazy("结果照片（可不传，最多 9 张）"), "files", False, None)],
    SummonsAction.RETURN: [("reason", gettext_lazy("退回原因（为什么不属于本单位职责）"), "textarea", True, None)],
    SummonsAction.CANCEL: [("reason", gettext_lazy("撤销原因"), "textarea", True, None)],
    SummonsAction.RATE: [("speed", gettext_lazy("响应速度（5 分最好）"), "radio", True, SCORES),
                         ("result", gettext_lazy("办理结果（5 分最好）"), "radio", True, SCORES),
                         ("comment", gettext_lazy("评价意见（可不填）"), "textarea", False, None)],
}
WORK_ORDER_FOLDED = {SummonsAction.RETURN, SummonsAction.CANCEL}


@login_required
def work_order_inbox(request):
    if not selectors.has_work_order_inbox(request.user):
        raise PermissionDenied("forbidden", _("工单待办只对职能部门和成员单位的经办人开放。"))
    state = request.GET.get("state", "open")
    show = request.GET.get("show", "")
    now = timezone.now()
    rows, next_after = selectors.due_keyset_page(selectors.work_order_inbox(request.user, state, show, now),
                                                 after=request.GET.get("after"), limit=50)
    items = [(wo, selectors.is_overdue_work_order(wo, now),
              SummonsAction.REPORT in allowed_work_order_actions(request.user, wo)) for wo in rows]
    return render(request, "appeals/workorders.html", {"rows": items, "next_after": next_after, "state": state,
                                                       "show": show, "first_page": not request.GET.get("after")})


def _work_order_context(request, wo, *, error=None, posted_action=None):
    actions = [{
        "name": name, "label": SUMMONS_ACTION_LABELS[name], "fields": WORK_ORDER_FIELDS[name],
        "folded": name in WORK_ORDER_FOLDED and name != posted_action,
        "url": reverse("appeals:work_order_act", args=[wo.pk, name]),
    } for name in allowed_work_order_actions(request.user, wo)]
    return {
        "wo": wo,
        "view": present.work_order_out(request.user, wo, photo_url=page_photo_url,
                                       photos=selectors.work_order_photos(wo)),
        "actions": actions,
        "error": error,
    }


@login_required
def work_order_detail(request, work_order_id: int):
    wo = selectors.work_order_get_for(request.user, work_order_id)
    return render(request, "appeals/workorder.html", _work_order_context(request, wo))


@login_required
@require_POST
def work_order_act(request, work_order_id: int, action: str):
    fields = {k: request.POST.get(k, "") for k in ("note", "reason", "speed", "result", "comment")}
    fields["photos"] = request.FILES.getlist("photos")
    try:
        wo = services.summons_act(actor=request.user, work_order=work_order_id, action=action,
                                  version=request.POST.get("version"), **fields)
    except GongzhiError as exc:
        wo = selectors.work_order_get_for(request.user, work_order_id)
        return render(request, "appeals/workorder.html",
                      _work_order_context(request, wo, error=exc.message, posted_action=action), status=exc.status)
    messages.success(request, _("已%(action)s：%(org)s · %(number)s（%(state)s）。") % {
        "action": SUMMONS_ACTION_LABELS.get(action, action), "org": wo.assignee.name, "number": wo.appeal.number,
        "state": wo.get_state_display()})
    return redirect(_safe_next(request) or reverse("appeals:work_order", args=[wo.pk]))
