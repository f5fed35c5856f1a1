"""Staff entry of appeals (代录): a hotline call or a visit typed in for a resident, a grid worker's patrol.

Thin like views.py: the form shapes input, services.appeal_submit decides (which sources staff may
use, consent for assisted entry, refusal outside the grid's community, the first responder).
Assisted reporters' names and phones are stored encrypted and shown masked; reading one in clear
is a separate, permission-checked and audited request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError, PermissionDenied

from . import permissions, present, selectors, services
from .forms_entry import ENTRY_SOURCES, EntryForm, RevealForm
from .models import Source
from .views import carry_photos, replayed_submit

HANDLE = "appeal.handle"
RECENT = 10
# A refusal from the service lands beside the field it is about; the rest go on top of the form.
FIELD_OF_CODE = {
    "consent_required": "consent_recorded",
    "bad_phone": "reporter_phone",
    "bad_category": "category",
    "bad_urgency": "urgency",
    "photo_too_large": "photos",
    "photo_type": "photos",
    "too_many_photos": "photos",
}


def _require_staff(user) -> None:
    if not scopes.can(user, HANDLE):
        raise PermissionDenied("forbidden", _("代录诉求只对网格员、社区工作者和街道干部开放。"))


def _default_source(request) -> str:
    asked = request.GET.get("source", "")
    if asked in {s.value for s in ENTRY_SOURCES}:
        return asked
    roles = scopes.roles_of(request.user)
    # A grid worker on the street mostly reports what they find; an office mostly takes calls.
    if "grid_worker" in roles and not roles & {"community_worker", "street_officer"}:
        return Source.PATROL
    return Source.HOTLINE


# ---- pages ----

def _recent(user):
    """The last appeals this staff member entered, with the reporter as the viewer may see them."""
    rows = (selectors.appeals_visible_to(user).filter(submitted_by=user, source__in=[s.value for s in ENTRY_SOURCES])
            .order_by("-id")[:RECENT])
    return [{"appeal": a, "reporter": present.reporter_out(user, a),
             "can_unmask": permissions.can_unmask_reporter(user, a) and bool(a.reporter_phone_enc or a.reporter_name_enc)}
            for a in rows]


def _page(request, form, *, status=200, revealed=None, staged=()):
    return render(request, "appeals/entry.html", {
        "form": form,
        "staged": staged,
        "tile_url": settings.MAP_TILE_URL,
        "assisted_sources": sorted(services.ASSISTED_SOURCES),
        "recent": _recent(request.user),
        "revealed": revealed,
        "photo_max_mb": services.PHOTO_MAX_BYTES // (1024 * 1024),
        "photo_max_count": services.PHOTO_MAX_COUNT,
    }, status=status)


@login_required
def appeal_entry(request):
    _require_staff(request.user)
    # The photos are not the form's: carry_photos stages them, the submit attaches them by token.
    # A link may prefill the title and text (a topic raised at a meeting, "转为诉求"): no retyping.
    initial = {} if request.method == "POST" else {
        k: request.GET[k][:limit] for k, limit in (("title", 100), ("text", 2000)) if request.GET.get(k)}
    form = EntryForm(request.POST or None, default_source=_default_source(request), initial=initial)
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
                    actor=request.user, source=d["source"], category=d["category"], urgency=d["urgency"],
                    title=d["title"], text=d["text"], lon=d["lon"], lat=d["lat"], anonymous=d["anonymous"],
                    reporter_name=d["reporter_name"], reporter_phone=d["reporter_phone"],
                    consent_recorded=d["consent_recorded"], idempotency_key=d["idempotency_key"],
                    staged_photos=carried.tokens, address=d["address"])
            except GongzhiError as exc:
                form.add_error(FIELD_OF_CODE.get(exc.code), str(exc.message))
                status = exc.status
        if appeal is not None:
            again = reverse("appeals:entry") + f"?source={appeal.source}"
            text = (_("该诉求已录入过（重复提交未再创建），编号 %(number)s。") if appeal.replayed
                    else _("已录入诉求 %(number)s（%(source)s），首问责任人：%(owner)s。")) % {
                "number": appeal.number, "source": appeal.get_source_display(),
                "owner": present.user_name(appeal.owner) or _("待指派")}
            messages.success(request, format_html(
                '{} <a href="{}" data-testid="continue-entry">{}</a>', text, again, _("继续录入")))
            return redirect("appeals:detail", number=appeal.number)
    return _page(request, form, status=status, staged=staged)


@login_required
@require_POST
def appeal_entry_reveal(request, number: str):
    _require_staff(request.user)
    appeal = selectors.appeal_get_for(request.user, number)
    form = RevealForm(request.POST)
    blank = EntryForm(default_source=_default_source(request))
    if not form.is_valid():
        return _page(request, blank, status=400, revealed={"number": appeal.number, "errors": form.errors})
    field = form.cleaned_data["field"]
    value = services.appeal_reporter_unmask(actor=request.user, appeal=appeal, field=field,
                                   reason=form.cleaned_data["reason"])
    resp = _page(request, blank, revealed={"number": appeal.number, "field": field, "value": value,
                                           "label": dict(form.fields["field"].choices)[field]})
    resp["Cache-Control"] = "no-store"
    return resp
