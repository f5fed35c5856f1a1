"""Reads of appeals, always scoped to the actor, each page a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.scopes import scopes_of
from gongzhi.org.models import UNIT_KINDS, Organization, OrgKind
from gongzhi.places.models import Grid, Place, PlaceKind

from . import workflow as _workflow
from .models import (
    OPEN_STATES,
    SUMMONS_OPEN_STATES,
    Appeal,
    AppealEvent,
    AppealPhoto,
    Category,
    Hotspot,
    HotspotState,
    Level,
    State,
    SummonsState,
    WhistleSummons,
)
from .permissions import (
    ROLE_LEVEL,
    VIEW_ROLES,
    assignee_q,
    can_view,
    can_view_work_order,
    org_scopes,
    scope_q,
    visible_q,
    work_order_visible_q,
)

_RELATED = ("category", "grid", "community", "owner", "reporter")
# The appeal a merged one went into is shown by its number only: a scalar subquery, not a seventh
# join (every relation of a join multiplies the planner's work on each read of a list or an appeal).
_MERGED_INTO_NUMBER = Subquery(Appeal.objects.filter(pk=OuterRef("merged_into_id")).values("number")[:1])


# Read with the grid only when shown (the staff page's map): its outline is a JSON document parsed for
# every row read, and no list or API answer shows it.
_DEFERRED = ("grid__geometry", "grid__search_key", "community__search_key")


def with_related():
    """Appeals with what every page and API answer shows (no per-row queries)."""
    return (Appeal.objects.select_related(*_RELATED).defer(*_DEFERRED)
            .annotate(merged_into_number=_MERGED_INTO_NUMBER))


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


def _inbox_q(actor) -> Q:
    q = Q(owner=actor)
    for s in scopes_of(actor):
        level = ROLE_LEVEL.get(s.role)
        if level is not None:
            q |= Q(owner_level=level) & scope_q(s)
    return Q(state__in=OPEN_STATES) & q


# The inbox's narrowings (`?show=`), each a count on the home page: the count and the list use
# the same filter, so the number on the desk is the number of rows behind its link.
# "new": waiting for someone to accept (the workflow's accept rows); "today": the pending step falls
# due later today (local time); "overdue": the pending step is past due (as the board counts it).
INBOX_SHOWS = ("new", "today", "overdue")
ACCEPT_STATES = tuple(dict.fromkeys(t.source for t in _workflow.TABLE if t.action == _workflow.Action.ACCEPT))


def end_of_today(now) -> dt.datetime:
    """The next local midnight after `now` (Asia/Shanghai for the demo): the end of "due today"."""
    local = timezone.localtime(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1))


def inbox_show_q(show: str, now) -> Q:
    if show == "new":
        return Q(state__in=ACCEPT_STATES)
    if show == "today":
        return Q(step_due__gte=now, step_due__lt=end_of_today(now))
    if show == "overdue":
        return Q(step_due__lt=now)
    raise ValidationFailed("bad_show", _("未知的待办筛选：%(s)s（可选：new、today、overdue）。") % {"s": show})


def callback_q(actor) -> Q:
    """Resolved appeals of residents without an account (hotline calls, visits) whose rating the actor
    records on a callback (回访): the `callback` relation of permissions.relations, as a filter."""
    who = Q(submitted_by=actor)
    for s in scopes_of(actor):
        if s.role == _workflow.COMMUNITY_WORKER:
            who |= scope_q(s)
    return Q(state=State.RESOLVED, reporter__isnull=True) & ~Q(reporter_name_enc="") & who


def department_rating_q(actor) -> Q:
    """Appeals with a resolved work order not yet rated, in the actor's street-officer scopes: the
    street's reverse evaluation of the departments (workflow.SUMMONS_TABLE, action `rate`)."""
    q = Q(pk__in=[])
    for s in scopes_of(actor):
        if s.role == _workflow.STREET_OFFICER:
            q |= scope_q(s)
    unrated = WhistleSummons.objects.filter(state=SummonsState.RESOLVED, rating_speed__isnull=True)
    return q & Q(pk__in=unrated.values("appeal_id"))


def awaiting_my_rating_q(actor) -> Q:
    return callback_q(actor) | department_rating_q(actor)


def awaiting_my_rating(actor):
    """Appeals waiting for the actor's rating (a callback, or the departments' results), newest first."""
    return with_related().filter(awaiting_my_rating_q(actor)).order_by("-id")


def inbox_for(actor, show: str = "", now=None):
    """Open appeals the actor owns, or at their level in their scope; the most urgent step first.
    `show` narrows to one of INBOX_SHOWS ("rate": the appeals awaiting the actor's rating instead)."""
    if show == "rate":
        return awaiting_my_rating(actor)
    qs = with_related().filter(_inbox_q(actor))
    if show:
        qs = qs.filter(inbox_show_q(show, now or timezone.now()))
    return qs.order_by(F("step_due").asc(nulls_last=True), "id")


def inbox_counts(actor, now=None) -> dict[str, int]:
    """How many inbox rows each narrowing holds, in one query over the open-appeal indexes."""
    now = now or timezone.now()
    out = Appeal.objects.filter(_inbox_q(actor)).aggregate(
        **{s: Count("id", filter=inbox_show_q(s, now)) for s in INBOX_SHOWS})
    out["rate"] = Appeal.objects.filter(awaiting_my_rating_q(actor)).count()
    return out


def has_appeal_inbox(actor) -> bool:
    """Grid workers, community workers and street officers (and superusers) have an appeal inbox."""
    return getattr(actor, "is_superuser", False) or any(s.role in ROLE_LEVEL for s in scopes_of(actor))


# "My appeals" narrowings (`?show=`): still being worked on, and handled and waiting for my rating.
MINE_SHOWS = {"open": Q(state__in=OPEN_STATES), "rate": Q(state=State.RESOLVED)}


def my_appeals(actor, show: str = ""):
    """The appeals the actor reported, newest first; `show` narrows to one of MINE_SHOWS."""
    qs = with_related().filter(reporter=actor)
    if show:
        if show not in MINE_SHOWS:
            raise ValidationFailed("bad_show", _("未知的筛选：%(s)s（可选：open、rate）。") % {"s": show})
        qs = qs.filter(MINE_SHOWS[show])
    return qs.order_by("-id")


def my_appeal_counts(actor) -> dict[str, int]:
    """How many of my appeals each MINE_SHOWS narrowing holds (one query on the reporter index)."""
    return Appeal.objects.filter(reporter=actor).aggregate(**{s: Count("id", filter=q) for s, q in MINE_SHOWS.items()})


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


# The work-order inbox's narrowings of open orders (`?show=`), each a count on a department's home page:
# "report": summoned, not yet reported for duty; "today" and "overdue": as for appeals.
WORK_ORDER_SHOWS = ("report", "today", "overdue")


def work_order_show_q(show: str, now) -> Q:
    if show == "report":
        return Q(state=SummonsState.SUMMONED)
    if show in ("today", "overdue"):
        return Q(state__in=SUMMONS_OPEN_STATES) & inbox_show_q(show, now)
    raise ValidationFailed("bad_show", _("未知的工单筛选：%(s)s（可选：report、today、overdue）。") % {"s": show})


def _work_orders_of_actor(actor, states):
    qs = work_orders_with_related().filter(state__in=states)
    if not getattr(actor, "is_superuser", False):
        qs = qs.filter(assignee_q(actor))
    return qs


def work_order_inbox(actor, state: str = "open", show: str = "", now=None):
    """Work orders summoning the actor's organisations; the most urgent pending step first."""
    states = INBOX_STATES.get(state) or ((state,) if state in SummonsState.values else None)
    if states is None:
        raise ValidationFailed("bad_state", _("未知的工单状态：%(s)s") % {"s": state})
    qs = _work_orders_of_actor(actor, states)
    if show:
        qs = qs.filter(work_order_show_q(show, now or timezone.now()))
    return qs.order_by("step_due", "id")


def work_order_counts(actor, now=None) -> dict[str, int]:
    """How many open work orders each WORK_ORDER_SHOWS narrowing holds, in one query."""
    now = now or timezone.now()
    return _work_orders_of_actor(actor, SUMMONS_OPEN_STATES).aggregate(
        **{s: Count("id", filter=work_order_show_q(s, now)) for s in WORK_ORDER_SHOWS})


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


# ---- duplicate suggestions, the dispatch board and hotspots ----

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180
# States of an appeal that a duplicate may be merged into, or that may still be the same problem.
RESOLVED_STATES = (State.RESOLVED, State.RATED, State.CLOSED)
# Rows read before the exact distance test: a pathological pile-up at one spot stays bounded.
DUPLICATE_SCAN_MAX = 500


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine): exact enough for hundreds of metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def degree_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lon, max lon, min lat, max lat) of a box holding every point within radius_m of (lon, lat)."""
    dlat = radius_m / M_PER_DEG
    cos = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 1e-6)
    dlon = radius_m / (M_PER_DEG * cos)
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat


def duplicate_settings() -> tuple[int, int]:
    """(radius in metres, window in days) for duplicate suggestions."""
    return (int(getattr(settings, "APPEAL_DUPLICATE_RADIUS_M", 200)),
            int(getattr(settings, "APPEAL_DUPLICATE_DAYS", 7)))


@dataclass(frozen=True)
class DuplicateCandidate:
    appeal: Appeal
    distance_m: float
    hours_apart: float


def duplicate_candidates(actor, appeal, limit: int = 5) -> list[DuplicateCandidate]:
    """Likely duplicates of `appeal` the actor may see: same category, within the radius and the
    window of days around its submission, open (or resolved within the last window of days: the
    same problem just handled), not merged or rejected.

    One query bounded by the (category, submitted_at) index and a lon/lat box, then the exact
    haversine distance in Python; ranked by distance and time apart (each as a share of its limit).
    """
    radius, days = duplicate_settings()
    window = dt.timedelta(days=days)
    min_lon, max_lon, min_lat, max_lat = degree_box(appeal.lon, appeal.lat, radius)
    since, until = appeal.submitted_at - window, appeal.submitted_at + window
    rows = (with_related().filter(visible_q(actor))
            .filter(category_id=appeal.category_id, submitted_at__gte=since, submitted_at__lte=until,
                    lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)
            .filter(Q(state__in=OPEN_STATES) | Q(state__in=RESOLVED_STATES, resolved_at__gte=timezone.now() - window))
            .exclude(pk=appeal.pk).order_by("-submitted_at", "-id")[:DUPLICATE_SCAN_MAX])
    out = []
    for other in rows:
        d = distance_m(appeal.lon, appeal.lat, other.lon, other.lat)
        if d <= radius:
            hours = abs((other.submitted_at - appeal.submitted_at).total_seconds()) / 3600
            out.append(DuplicateCandidate(other, d, hours))
    out.sort(key=lambda c: (c.distance_m / max(radius, 1) + c.hours_apart / max(days * 24, 1), c.appeal.pk))
    return out[: max(0, int(limit))]


# The dispatch board (调度台): appeals nobody owns, overdue ones, and those waiting for the street
# to blow the whistle, in the scopes where the actor dispatches (community workers, street officers).
BOARD_SECTIONS = ("unassigned", "overdue", "awaiting_whistle")
AWAITING_WHISTLE_STATES = (State.ESCALATED, State.ACCEPTED, State.REOPENED)
DISPATCH_ACTION = "appeal.dispatch"


def dispatch_scopes(actor) -> list:
    """The actor's scopes whose role may dispatch (core.scopes.ROLE_ACTIONS: appeal.dispatch)."""
    from gongzhi.core.scopes import ROLE_ACTIONS

    return [s for s in scopes_of(actor) if DISPATCH_ACTION in ROLE_ACTIONS.get(s.role, ()) and s.kind != "org"]


def can_use_board(actor) -> bool:
    return getattr(actor, "is_superuser", False) or bool(dispatch_scopes(actor))


def _dispatch_q(actor) -> Q:
    if getattr(actor, "is_superuser", False):
        return Q()
    q = Q(pk__in=[])
    for s in dispatch_scopes(actor):
        q |= scope_q(s)
    return q


def overdue_q(now=None) -> Q:
    """The one rule for "overdue": an appeal still open whose pending step's deadline (step_due: the
    response, the result, or its earliest open work order's step) has passed. The dispatch board's
    overdue section and the KPI page's "overdue now" both count with it; the sweep warns about the
    same appeals, and the KPI counter `overdue` counts each warned appeal once."""
    return Q(state__in=OPEN_STATES, step_due__lt=now or timezone.now())


def is_overdue(appeal, now=None) -> bool:
    """`overdue_q` for one appeal already read (a row on a page)."""
    return appeal.state in OPEN_STATES and bool(appeal.step_due and appeal.step_due < (now or timezone.now()))


def board_section_q(section: str, now) -> Q:
    if section == "unassigned":
        return Q(state__in=OPEN_STATES, owner__isnull=True)
    if section == "overdue":
        return overdue_q(now)
    if section == "awaiting_whistle":
        return Q(state__in=AWAITING_WHISTLE_STATES, owner_level=Level.STREET)
    raise ValidationFailed("bad_section", _("未知的调度台栏目：%(s)s（可选：unassigned、overdue、awaiting_whistle）。") % {
        "s": section})


@dataclass(frozen=True)
class BoardFilter:
    """Narrowing inside the actor's scope: a place (street or community) code, a grid code, a category code."""

    place: Place | None = None
    grid: Grid | None = None
    category: Category | None = None

    def appeal_q(self) -> Q:
        q = Q()
        if self.place is not None:
            q &= Q(place_path__startswith=self.place.path)
        if self.grid is not None:
            q &= Q(grid_path__startswith=self.grid.path)
        if self.category is not None:
            q &= Q(category=self.category)
        return q


def board_filter(*, place_code: str = "", grid_code: str = "", category_code: str = "") -> BoardFilter:
    """Parse the board's filters; an unknown code is a 400 naming it."""
    place = grid = category = None
    place_code, grid_code, category_code = (str(v or "").strip() for v in (place_code, grid_code, category_code))
    if place_code:
        place = Place.objects.filter(code=place_code).first()
        if place is None:
            raise ValidationFailed("bad_scope", _("未知的地点编码：%(code)s") % {"code": place_code})
    if grid_code:
        grid = Grid.objects.filter(code=grid_code).first()
        if grid is None:
            raise ValidationFailed("bad_grid", _("未知的网格编码：%(code)s") % {"code": grid_code})
    if category_code:
        category = Category.objects.filter(code=category_code).first()
        if category is None:
            raise ValidationFailed("bad_category", _("未知的诉求分类：%(code)s，请从列表中选择。") % {"code": category_code})
    return BoardFilter(place=place, grid=grid, category=category)


def board_appeals(actor, section: str, flt: BoardFilter | None = None, now=None):
    """One section of the board: appeals in the actor's dispatch scopes, due soonest first."""
    now = now or timezone.now()
    qs = with_related().filter(_dispatch_q(actor)).filter(board_section_q(section, now))
    if flt is not None:
        qs = qs.filter(flt.appeal_q())
    return qs.order_by("step_due", "id")


def board_counts(actor, flt: BoardFilter | None = None, now=None) -> dict[str, int]:
    """The size of every board section (and the open hotspots) in two queries."""
    now = now or timezone.now()
    qs = Appeal.objects.filter(_dispatch_q(actor))
    if flt is not None:
        qs = qs.filter(flt.appeal_q())
    counts = qs.filter(state__in=OPEN_STATES).aggregate(**{
        s: Count("id", filter=board_section_q(s, now)) for s in BOARD_SECTIONS})
    counts["hotspots"] = hotspots_for(actor, HotspotState.OPEN, flt, dispatch_only=True).count()
    return counts


def hotspot_visible_q(actor) -> Q:
    """A filter on Hotspot: those whose grid or community lies in one of the actor's staff scopes."""
    if actor is None or getattr(actor, "is_superuser", False):
        return Q()
    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for s in scopes_of(actor):
        if s.role in VIEW_ROLES and s.kind in ("grid", "place"):
            q |= scope_q(s)  # Hotspot carries grid_path and place_path as Appeal does
    return q


def _repeats_prefetch():
    return Prefetch("appeals", queryset=Appeal.objects.select_related("grid").order_by("submitted_at", "id"))


def hotspots_for(actor, state: str | None = HotspotState.OPEN, flt: BoardFilter | None = None, *,
                 dispatch_only: bool = False):
    """Hotspot warnings the actor may see (in their dispatch scopes only, for the board), newest first."""
    qs = Hotspot.objects.select_related("category", "grid", "proactive_appeal", "handled_by")
    qs = qs.filter(_dispatch_q(actor) if dispatch_only else hotspot_visible_q(actor))
    if state:
        if state not in HotspotState.values:
            raise ValidationFailed("bad_state", _("未知的热点状态：%(s)s（可选：open、converted、dismissed）。") % {"s": state})
        qs = qs.filter(state=state)
    if flt is not None:
        qs = qs.filter(flt.appeal_q())
    return qs.order_by("-last_at", "-id")


def hotspots_with_repeats(qs):
    return qs.prefetch_related(_repeats_prefetch())


def hotspot_get_for(actor, hotspot_id) -> Hotspot:
    """One hotspot, or the same 404 for "missing" and "not yours"."""
    try:
        pk = int(hotspot_id)
    except (TypeError, ValueError):
        pk = None
    h = (hotspots_with_repeats(Hotspot.objects.select_related("category", "grid", "proactive_appeal", "handled_by")
                               .filter(hotspot_visible_q(actor))).filter(pk=pk).first() if pk else None)
    if h is None:
        raise NotFound("hotspot_not_found", _("热点预警 %(id)s 不存在或您无权查看。") % {"id": hotspot_id})
    return h


def repeats_of(actor, appeal) -> list[Appeal]:
    """The repeats linked to a proactive appeal that the actor may see, oldest first."""
    return list(with_related().filter(visible_q(actor), proactive=appeal).order_by("submitted_at", "id"))
