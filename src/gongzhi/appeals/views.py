"""Appeal pages: submit on the map, my appeals, the inbox, and one appeal with the actions I may take.

Thin: parse, call a service or selector, render. Action buttons come from allowed_actions (the
workflow table), so a page never offers what the service would refuse.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.errors import GongzhiError, PermissionDenied
from gongzhi.core.scopes import scopes_of

from . import present, selectors, services
from .forms import AppealForm, RatingChoices
from .permissions import ROLE_LEVEL, allowed_actions
from .workflow import ACTION_LABELS, Action

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


@login_required
def appeal_new(request):
    form = AppealForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                appeal = services.appeal_submit(
                    actor=request.user, category=d["category"], urgency=d["urgency"], title=d["title"],
                    text=d["text"], lon=d["lon"], lat=d["lat"], anonymous=d["anonymous"],
                    idempotency_key=d["idempotency_key"], photos=d["photos"])
            except GongzhiError as exc:
                form.add_error(None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("诉求已提交，编号 %(number)s。网格员会尽快联系您。") % {
                    "number": appeal.number})
                return redirect("appeals:detail", number=appeal.number)
        else:
            status = 400
    return render(request, "appeals/new.html", {"form": form, "tile_url": settings.MAP_TILE_URL}, status=status)


@login_required
def appeal_mine(request):
    page = Paginator(selectors.my_appeals(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "appeals/mine.html", {"page": page})


@login_required
def appeal_inbox(request):
    if not request.user.is_superuser and not any(s.role in ROLE_LEVEL for s in scopes_of(request.user)):
        raise PermissionDenied("forbidden", _("待办诉求只对网格员、社区工作者和街道干部开放。"))
    page = Paginator(selectors.inbox_for(request.user), 50).get_page(request.GET.get("page"))
    rows = [(a, present.is_overdue(a), Action.ACCEPT in allowed_actions(request.user, a)) for a in page]
    return render(request, "appeals/inbox.html", {"page": page, "rows": rows})


def _detail_context(request, appeal, *, error=None, posted_action=None, posted=None):
    actions = []
    for name in allowed_actions(request.user, appeal):
        actions.append({
            "name": name, "label": ACTION_LABELS[name], "fields": ACTION_FIELDS.get(name, []),
            "folded": name in FOLDED and name != posted_action,
            "url": reverse("appeals:act", args=[appeal.number, name]),
        })
    events = selectors.timeline(appeal)
    return {
        "appeal": appeal,
        "view": present.appeal_out(request.user, appeal, photo_url=page_photo_url,
                                   photos=selectors.photos_of(appeal)),
        "timeline": [(e, present.event_out(request.user, appeal, e, page_photo_url)) for e in events],
        "actions": actions,
        "error": error,
        "posted": posted or {},
        "tile_url": settings.MAP_TILE_URL,
    }


@login_required
def appeal_detail(request, number: str):
    appeal = selectors.appeal_get_for(request.user, number)
    return render(request, "appeals/detail.html", _detail_context(request, appeal))


def _safe_next(request) -> str | None:
    nxt = request.POST.get("next", "")
    if nxt.startswith("/appeals/") and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return None


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

