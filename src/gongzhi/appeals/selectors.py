"""Reads of appeals, always scoped to the actor, each page a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.scopes import scopes_of
from gongzhi.org.models import UNIT_KINDS, Organization, OrgKind
from gongzhi.places.models import Place, PlaceKind

from .models import (
    OPEN_STATES,
    SUMMONS_OPEN_STATES,
    Appeal,
    AppealEvent,
    AppealPhoto,
    Category,
    SummonsState,
    WhistleSummons,
)
from .permissions import (
    ROLE_LEVEL,
    assignee_q,
    can_view,
    can_view_work_order,
    org_scopes,
    scope_q,
    visible_q,
    work_order_visible_q,
)

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


# ---- work orders ----

_WO_RELATED = ("appeal", "appeal__category", "appeal__grid", "appeal__community", "assignee", "whistle",
               "whistle__blown_by")
# Organisations a street may summon: departments and member units (not the party committees).
SUMMONABLE_KINDS = tuple(sorted(k for k in UNIT_KINDS if k != OrgKind.COMMUNITY_COMMITTEE))


def work_orders_with_related():
    return WhistleSummons.objects.select_related(*_WO_RELATED)


def work_orders_visible_to(actor):
    return work_orders_with_related().filter(work_order_visible_q(actor))


def work_order_get_for(actor, work_order_id) -> WhistleSummons:
    """One work order, or the same 404 for "missing" and "not yours"."""
    try:
        pk = int(work_order_id)
    except (TypeError, ValueError):
        pk = None
    wo = work_orders_with_related().filter(pk=pk).first() if pk else None
    if wo is None or not can_view_work_order(actor, wo):
        raise NotFound("work_order_not_found", _("工单 %(id)s 不存在或您无权查看。") % {"id": work_order_id})
    return wo


INBOX_STATES = {"open": SUMMONS_OPEN_STATES, "all": tuple(SummonsState.values)}


def work_order_inbox(actor, state: str = "open"):
    """Work orders summoning the actor's organisations; the most urgent pending step first."""
    states = INBOX_STATES.get(state) or ((state,) if state in SummonsState.values else None)
    if states is None:
        raise ValidationFailed("bad_state", _("未知的工单状态：%(s)s") % {"s": state})
    qs = work_orders_with_related().filter(state__in=states)
    if not getattr(actor, "is_superuser", False):
        qs = qs.filter(assignee_q(actor))
    return qs.order_by("step_due", "id")


def has_work_order_inbox(actor) -> bool:
    return getattr(actor, "is_superuser", False) or bool(org_scopes(actor))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _cursor(wo) -> str:
    return f"{(wo.step_due - _EPOCH) // dt.timedelta(microseconds=1)}_{wo.pk}"


def due_keyset_page(qs, *, after: str | None, limit: int):
    """Due soonest first, keyset on (step_due, id): constant cost at any depth."""
    limit = max(1, min(int(limit or 50), 200))
    if after:
        try:
            micros, pk = (int(x) for x in str(after).split("_", 1))
            due = _EPOCH + dt.timedelta(microseconds=micros)
        except (TypeError, ValueError, OverflowError):
            raise ValidationFailed("bad_cursor", _("分页游标无效，请从第一页重新开始。")) from None
        qs = qs.filter(Q(step_due__gt=due) | Q(step_due=due, id__gt=pk))
    rows = list(qs.order_by("step_due", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor(rows[-1]) if more and rows else None)


def work_orders_of(appeal) -> list[WhistleSummons]:
    """An appeal's work orders, oldest first, with their organisations and result photos."""
    return list(WhistleSummons.objects.filter(appeal=appeal).select_related("assignee", "whistle__blown_by", "appeal")
                .prefetch_related(Prefetch("photos", queryset=AppealPhoto.objects.order_by("id")))
                .order_by("id"))


def work_order_photos(work_order) -> list[AppealPhoto]:
    return list(AppealPhoto.objects.filter(work_order=work_order).order_by("id"))


def district_of(appeal) -> Place | None:
    parts = [p for p in appeal.place_path.split("/") if p]
    ancestors = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return Place.objects.filter(kind=PlaceKind.DISTRICT, path__in=ancestors).first()


def summonable_organizations(appeal):
    """Departments and member units of the appeal's district (or, without a district, its street's tree)."""
    district = district_of(appeal)
    root = district.path if district is not None else appeal.place_path
    return (Organization.objects.filter(kind__in=SUMMONABLE_KINDS, place_path__startswith=root)
            .order_by("kind", "name", "id"))


def is_overdue_work_order(wo, now=None) -> bool:
    return wo.state in SUMMONS_OPEN_STATES and wo.step_due < (now or timezone.now())
