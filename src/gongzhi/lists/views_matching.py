"""The dispatch board of the three lists (/lists/board/): open needs of my community, matching proposals
(htmx), confirming the chosen pairs into dispatches, and the needs nobody can take with why.

Thin: the rules live in matching_service; these views parse the form and render.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import GongzhiError, PermissionDenied, ValidationFailed

from . import matching_service as ms
from .models import Need, NeedState, Skill, Urgency

PAGE_SIZE = 20
CLOSED_STATES = (NeedState.DONE, NeedState.RATED, NeedState.WITHDRAWN)


def _places(request):
    places = ms.dispatch_places(request.user)
    if not places:
        raise PermissionDenied("forbidden", _("派单调度台只对社区工作者和街道干部开放。"))
    return places


def _place(request, places, code):
    if not code:
        return places[0]
    return ms.resolve_place(actor=request.user, place_code=code)


def _board_context(request, place, places) -> dict:
    today = timezone.localdate()
    in_scope = Need.objects.filter(place_path__startswith=place.path)
    counts = dict(in_scope.order_by().values_list("state").annotate(n=Count("id")))
    overdue = in_scope.filter(due_on__lt=today).exclude(state__in=CLOSED_STATES).count()
    filters = {k: (request.GET.get(k) or "").strip() for k in ("skill", "urgency")}
    qs = ms.open_needs(place).select_related("place")
    if filters["skill"] in Skill.values:
        qs = qs.filter(skill=filters["skill"])
    if filters["urgency"] in Urgency.values:
        qs = qs.filter(urgency=filters["urgency"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "place": place, "places": places, "today": today,
        "counts": [(value, label, counts.get(value, 0)) for value, label in NeedState.choices],
        "overdue": overdue, "page": page, "filters": filters,
        "skills": Skill.choices, "urgencies": Urgency.choices,
    }


@login_required
def board(request):
    places = _places(request)
    place = _place(request, places, request.GET.get("place"))
    return render(request, "lists/board.html", _board_context(request, place, places))


@login_required
@require_POST
def propose(request):
    """Run matching for the chosen place; htmx gets the proposal table, a plain post the whole board."""
    places = _places(request)
    place = _place(request, places, request.POST.get("place"))
    try:
        proposal = ms.matching_propose(actor=request.user, place=place)
    except GongzhiError as exc:
        if exc.status == 403:
            raise
        return _results(request, place, places, [], exc)
    ctx = {"proposal": proposal, "place": place}
    if request.headers.get("HX-Request"):
        return render(request, "lists/matching_proposal.html", ctx)
    return render(request, "lists/board.html", {**_board_context(request, place, places), **ctx})


def _results(request, place, places, results, exc=None):
    """The confirm results (or the refusal) as a fragment for htmx, or the whole board for a plain post.

    htmx 2 does not swap 4xx answers into the page, so a refusal reaches htmx as 200 with the message
    in the fragment; a plain form post gets the real status."""
    ctx = {"results": results, "error": exc.message if exc else None, "place": place,
           "dispatched": sum(r.status == "dispatched" for r in results)}
    if request.headers.get("HX-Request"):
        return render(request, "lists/matching_results.html", ctx)
    return render(request, "lists/board.html", {**_board_context(request, place, places), **ctx},
                  status=exc.status if exc else 200)


def _chosen_pairs(post) -> list[dict]:
    pairs = []
    for number in post.getlist("pick"):
        raw = post.get(f"resource_{number}", "")
        if not raw.isdigit():
            raise ValidationFailed("pair_invalid", _("请为需求 %(n)s 选择承接资源。") % {"n": number})
        version = post.get(f"version_{number}", "")
        pairs.append({"need_number": number, "resource_id": int(raw),
                      "version": int(version) if version.isdigit() else None})
    return pairs


@login_required
@require_POST
def confirm(request):
    places = _places(request)
    place = _place(request, places, request.POST.get("place"))
    try:
        results = ms.matching_confirm(actor=request.user, pairs=_chosen_pairs(request.POST))
    except GongzhiError as exc:
        if exc.status == 403:
            raise
        return _results(request, place, places, [], exc)
    return _results(request, place, places, results)
