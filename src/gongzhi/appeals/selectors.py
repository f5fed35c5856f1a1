"""Reads of appeals, always scoped to the actor, each page a fixed number of queries."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.core.scopes import scopes_of

from .models import OPEN_STATES, Appeal, AppealEvent, AppealPhoto, Category
from .permissions import ROLE_LEVEL, can_view, scope_q, visible_q

_RELATED = ("category", "grid", "community", "owner", "reporter", "merged_into")


def with_related():
    """Appeals with what every page and API answer shows (no per-row queries)."""
    return Appeal.objects.select_related(*_RELATED)


def appeals_visible_to(actor):
    """Every appeal the actor may read: their own as reporter, those they own, and their scope's."""
    return with_related().filter(visible_q(actor))


def appeal_get_for(actor, number_or_id) -> Appeal:
    """One appeal, or the same 404 for "missing" and "not yours" (numbers leak nothing)."""
    qs = with_related()
    if isinstance(number_or_id, int):
        appeal = qs.filter(pk=number_or_id).first()
    else:
        appeal = qs.filter(number=str(number_or_id).strip().upper()).first()
    if appeal is None or not can_view(actor, appeal):
        raise NotFound("appeal_not_found", _("诉求 %(number)s 不存在或您无权查看。") % {"number": number_or_id})
    return appeal


def inbox_for(actor):
    """Open appeals the actor owns, or at their level in their scope; the most urgent step first."""
    q = Q(owner=actor)
    for s in scopes_of(actor):
        level = ROLE_LEVEL.get(s.role)
        if level is not None:
            q |= Q(owner_level=level) & scope_q(s)
    return (with_related().filter(state__in=OPEN_STATES).filter(q)
            .order_by(F("step_due").asc(nulls_last=True), "id"))


def my_appeals(actor):
    """The appeals the actor reported, newest first."""
    return with_related().filter(reporter=actor).order_by("-id")


def keyset_page(qs, *, before: int | None, limit: int):
    """Newest first, keyset on id: constant cost at any depth."""
    limit = max(1, min(int(limit or 50), 200))
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def timeline(appeal):
    """The appeal's events, oldest first, with their actors and photos."""
    return list(AppealEvent.objects.filter(appeal=appeal).select_related("actor")
                .prefetch_related(Prefetch("photos", queryset=AppealPhoto.objects.order_by("id"))).order_by("id"))


def photos_of(appeal):
    return list(AppealPhoto.objects.filter(appeal=appeal).order_by("id"))


def categories():
    return list(Category.objects.filter(active=True).order_by("sort", "id"))
