"""Hotspot warnings (热点预警) and proactive handling (未诉先办): detection, convert, dismiss.

A hotspot is N or more appeals of one category whose points lie within R metres of a centre and
were submitted within T days (settings APPEAL_HOTSPOT_MIN_COUNT, _RADIUS_M, _DAYS). Detection runs
from the sweep (`detect_hotspots(now)`) or the command `gongzhi hotspots`, never on the submit path.

Choices made here, for the record:
- The centre of a new hotspot is the point of one of its appeals (the one with the most neighbours
  within R): it always lies in a grid, so the proactive appeal opened there resolves to one too.
- Each appeal belongs to at most one hotspot. A run first links unlinked appeals to a live hotspot
  whose centre is within its radius (an open one, or a converted one whose proactive appeal is
  still open: then the repeat also links to the proactive appeal); the rest may form new hotspots.
  A dismissed hotspot keeps its appeals but takes no new ones: N fresh repeats warn again.
- Runs lock the category row (PostgreSQL; SQLite's IMMEDIATE transactions already serialise
  writers), one short transaction per category, so two concurrent runs never make two hotspots of
  one cluster, and a conversion never races a run that links repeats. The lock is FOR NO KEY
  UPDATE: a submit's foreign-key check on the category (KEY SHARE) never waits on it, so a submit
  holding the audit head is never stuck behind a run waiting on that head (core.audit, lock order).
  A run that still dies of a deadlock is run again (core.transactions.serialised).
- Converting or dismissing is a compare-and-set on the hotspot's version: the loser gets a 409.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, PermissionDenied

from . import selectors, services
from .models import (
    OPEN_STATES,
    TEXT_MAX,
    TITLE_MAX,
    Appeal,
    Category,
    Hotspot,
    HotspotState,
    Source,
    State,
)
from .permissions import roles_covering
from .workflow import STREET_OFFICER

REASON_MAX = 500
CONVERT, DISMISS = "convert", "dismiss"
ACTION_LABELS = {CONVERT: gettext_lazy("转为未诉先办"), DISMISS: gettext_lazy("忽略预警")}
# Appeals that do not count toward a hotspot: duplicates already merged, ones declined as out of
# scope, and the proactive appeals themselves.
NOT_COUNTED_STATES = (State.MERGED, State.REJECTED)


def hotspot_settings() -> tuple[int, int, int]:
    """(minimum count N, radius R in metres, window T in days), read at each run."""
    return (max(2, int(getattr(settings, "APPEAL_HOTSPOT_MIN_COUNT", 5))),
            max(1, int(getattr(settings, "APPEAL_HOTSPOT_RADIUS_M", 300))),
            max(1, int(getattr(settings, "APPEAL_HOTSPOT_DAYS", 14))))


def stale_message():
    return _("该热点预警已被他人处理，请刷新后查看。")


def _serialised(fn):
    return services._serialised(fn, _("系统正忙，有人正在处理同一热点，请稍后重试。"))


# The appeals' own input rules: the same cleaning, limits and messages for hotspot text and versions.
_text = services._text
_version = services._version


# ---- who may do what ----

def _probe(h: Hotspot) -> Appeal:
    return Appeal(grid_path=h.grid_path, place_path=h.place_path)


def can_handle(actor, h: Hotspot) -> bool:
    """A street officer whose street covers the hotspot (or a superuser) converts or dismisses it."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or STREET_OFFICER in roles_covering(actor, _probe(h))


def allowed_actions(actor, h: Hotspot) -> list[str]:
    return [CONVERT, DISMISS] if h.state == HotspotState.OPEN and can_handle(actor, h) else []


def default_title(h: Hotspot) -> str:
    return _("【未诉先办】%(grid)s%(category)s问题集中处置") % {"grid": h.grid.name, "category": h.category.label}


def default_text(h: Hotspot) -> str:
    return _("%(days)d 天内 %(grid)s 附近 %(radius)d 米范围内收到 %(n)d 条「%(category)s」诉求，街道主动处置。") % {
        "days": h.window_days, "grid": h.grid.name, "radius": h.radius_m, "n": h.appeal_count,
        "category": h.category.label}


# ---- detection ----

@dataclass
class DetectResult:
    created: list[int] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)
    linked: int = 0
    categories: int = 0

    def as_dict(self) -> dict:
        return {"created": len(self.created), "extended": len(self.extended), "linked": self.linked,
                "categories": self.categories}


@dataclass(frozen=True)
class _Point:
    id: int
    number: str
    lon: float
    lat: float
    at: dt.datetime
    grid_id: int
    grid_path: str
    place_path: str


def _clusters(points: list[_Point], n: int, radius: float) -> list[tuple[_Point, list[_Point]]]:
    """Greedy star clusters: repeatedly take the point with the most unclaimed neighbours within
    `radius` (ties: the lowest id); stop when it has fewer than `n`. Bucketed by cells of at least
    `radius` on a side, so each point is compared with its own and the eight cells around it."""
    if len(points) < n:
        return []
    dlat = radius / selectors.M_PER_DEG
    top = max(abs(p.lat) for p in points) + dlat
    dlon = radius / (selectors.M_PER_DEG * max(math.cos(math.radians(min(89.0, top))), 1e-6))
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    keys = []
    for i, p in enumerate(points):
        key = (math.floor(p.lon / dlon), math.floor(p.lat / dlat))
        keys.append(key)
        cells[key].append(i)
    near: list[list[int]] = []
    for i, p in enumerate(points):
        cx, cy = keys[i]
        near.append([j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cells.get((cx + dx, cy + dy), ())
                     if selectors.distance_m(p.lon, p.lat, points[j].lon, points[j].lat) <= radius])
    count = [len(x) for x in near]
    alive = [True] * len(points)
    heap = [(-count[i], points[i].id, i) for i in range(len(points))]
    heapq.heapify(heap)
    out = []
    while heap:
        neg, _pk, i = heapq.heappop(heap)
        if not alive[i] or -neg != count[i]:
            continue  # claimed, or a stale entry (a fresher one is in the heap)
        if count[i] < n:
            break
        members = [j for j in near[i] if alive[j]]
        for j in members:
            alive[j] = False
        for j in members:
            for k in near[j]:
                if alive[k]:
                    count[k] -= 1
                    heapq.heappush(heap, (-count[k], points[k].id, k))
        out.append((points[i], [points[j] for j in members]))
    return out


def _live_hotspots(category_id: int) -> list[Hotspot]:
    """Hotspots that still take repeats: open ones, and converted ones whose proactive appeal is open."""
    return list(Hotspot.objects.filter(category_id=category_id)
                .filter(Q(state=HotspotState.OPEN)
                        | Q(state=HotspotState.CONVERTED, proactive_appeal__state__in=OPEN_STATES))
                .order_by("id"))


def _nearest(p: _Point, live: list[Hotspot]) -> Hotspot | None:
    best, best_d = None, None
    for h in live:
        if abs(p.lat - h.lat) * selectors.M_PER_DEG > h.radius_m:
            continue  # cheap latitude reject before the haversine
        d = selectors.distance_m(p.lon, p.lat, h.lon, h.lat)
        if d <= h.radius_m and (best_d is None or d < best_d):
            best, best_d = h, d
    return best


def _detect_category(category_id: int, now, n: int, radius: int, days: int, result: DetectResult) -> None:
    """One category's run in one transaction, run again from the start if it deadlocks; `result`
    takes its counts once it has committed."""
    since = now - dt.timedelta(days=days)

    def run() -> DetectResult:
        mine = DetectResult()
        _detect_in_transaction(category_id, since, now, n, radius, days, mine)
        return mine

    mine = _serialised(run)
    result.created += mine.created
    result.extended += mine.extended
    result.linked += mine.linked
    result.categories += mine.categories


def _detect_in_transaction(category_id, since, now, n, radius, days, result: DetectResult) -> None:
    # Serialise runs (and conversions) of this category: PostgreSQL row lock (NO KEY: see the
    # module's docstring); on SQLite the IMMEDIATE transaction already holds the write lock.
    list(Category.objects.select_for_update(no_key=True).filter(pk=category_id)
         .values_list("pk", flat=True))
    points = [_Point(*row) for row in (
        Appeal.objects.filter(category_id=category_id, submitted_at__gte=since, submitted_at__lte=now,
                              hotspot__isnull=True)
        .exclude(source=Source.PROACTIVE).exclude(state__in=NOT_COUNTED_STATES)
        .order_by("id").values_list("id", "number", "lon", "lat", "submitted_at", "grid_id", "grid_path",
                                    "place_path"))]
    if not points:
        return
    result.categories += 1
    audits = []
    # 1. Repeats of a live hotspot join it (and, once converted, its proactive appeal).
    live = _live_hotspots(category_id)
    joining: dict[int, list[_Point]] = defaultdict(list)
    rest = []
    for p in points:
        h = _nearest(p, live)
        if h is None:
            rest.append(p)
        else:
            joining[h.pk].append(p)
    by_pk = {h.pk: h for h in live}
    for pk, members in joining.items():
        h = by_pk[pk]
        proactive = h.proactive_appeal_id if h.state == HotspotState.CONVERTED else None
        linked = Appeal.objects.filter(pk__in=[p.id for p in members], hotspot__isnull=True).update(
            hotspot=h, proactive=proactive)
        if not linked:
            continue
        last_at = max([h.last_at] + [p.at for p in members])
        first_at = min([h.first_at] + [p.at for p in members])
        Hotspot.objects.filter(pk=h.pk).update(appeal_count=F("appeal_count") + linked, last_at=last_at,
                                               first_at=first_at, updated_at=now)
        result.extended.append(h.pk)
        result.linked += linked
        audits.append(("hotspot.extend", h, {"state": h.state, "appeal_count": h.appeal_count},
                       {"appeal_count": h.appeal_count + linked, "added": [p.number for p in members],
                        "proactive_appeal": proactive}))
    # 2. The rest may form new hotspots.
    for centre, members in _clusters(rest, n, radius):
        h = Hotspot.objects.create(
            category_id=category_id, grid_id=centre.grid_id, grid_path=centre.grid_path,
            place_path=centre.place_path, lon=centre.lon, lat=centre.lat, radius_m=radius, window_days=days,
            threshold=n, appeal_count=0, first_at=min(p.at for p in members),
            last_at=max(p.at for p in members), created_at=now, updated_at=now)
        linked = Appeal.objects.filter(pk__in=[p.id for p in members], hotspot__isnull=True).update(hotspot=h)
        Hotspot.objects.filter(pk=h.pk).update(appeal_count=linked)
        result.created.append(h.pk)
        result.linked += linked
        audits.append(("hotspot.detect", h, None, {
            "category": category_id, "grid": centre.grid_id, "lon": centre.lon, "lat": centre.lat,
            "radius_m": radius, "window_days": days, "threshold": n, "appeal_count": linked,
            "appeals": [p.number for p in members]}))
    # Audit last: the chain head is the last lock taken, as in every other write.
    for action, h, before, after in audits:
        audit.record(None, action, h, before=before, after=after)


def detect_hotspots(now=None, pace=None) -> DetectResult:
    """Find new hotspots and link new repeats to live ones, as of `now` (default: the current time).

    Idempotent: a second run with nothing new changes nothing. Call it outside a transaction: it
    opens one short transaction per category. `pace` (core.pacing, the sweep's) is called after each.
    """
    now = now or timezone.now()
    n, radius, days = hotspot_settings()
    result = DetectResult()
    for category_id in Category.objects.order_by("id").values_list("id", flat=True):
        _detect_category(category_id, now, n, radius, days, result)
        if pace is not None:
            pace()
    return result


# ---- convert and dismiss ----

def _stale(pk) -> Conflict:
    h = Hotspot.objects.select_related("proactive_appeal").get(pk=pk)
    return Conflict("stale", stale_message(), {
        "state": h.state, "version": h.version,
        "proactive_appeal": h.proactive_appeal.number if h.proactive_appeal_id else None})


def _locked(actor, hotspot, version) -> Hotspot:
    """The hotspot as the actor may see it (404), read again under its category's lock, checked
    for the version the actor saw (409), still open (409) and theirs to handle (403)."""
    seen = selectors.hotspot_get_for(actor, hotspot.pk if isinstance(hotspot, Hotspot) else hotspot)
    list(Category.objects.select_for_update(no_key=True).filter(pk=seen.category_id)
         .values_list("pk", flat=True))
    h = Hotspot.objects.select_related("category", "grid").get(pk=seen.pk)
    if version is not None and version != h.version:
        raise _stale(h.pk)
    if h.state != HotspotState.OPEN:
        raise _stale(h.pk)
    if not can_handle(actor, h):
        raise PermissionDenied("forbidden", _("只有辖区街道干部可以处置热点预警。"))
    return h


def hotspot_convert(actor, hotspot, title, text, version=None) -> Hotspot:
    """Turn a hotspot into one proactive appeal (未诉先办) owned at street level by the officer.

    The appeal goes through the submit machinery (number, grid, deadlines, timeline, audit) with
    source "proactive" at the hotspot's centre, is handed to the officer at street level and
    accepted by them; every repeat of the hotspot links to it, and later repeats will too.
    """
    version = _version(version)

    def run() -> Hotspot:
        h = _locked(actor, hotspot, version)
        title_ = _text(title, field_label=_("标题"), max_len=TITLE_MAX)
        text_ = _text(text, field_label=_("处置说明"), max_len=TEXT_MAX)
        now = timezone.now()
        if Hotspot.objects.filter(pk=h.pk, state=HotspotState.OPEN, version=h.version).update(
                state=HotspotState.CONVERTED, version=F("version") + 1, handled_by=actor, handled_at=now,
                updated_at=now) != 1:
            raise _stale(h.pk)
        # Lock the repeats before anything takes the audit chain's head (the order every write keeps).
        repeats = list(Appeal.objects.select_for_update().filter(hotspot=h).order_by("id")
                       .values_list("pk", "number"))
        appeal = services.appeal_submit(actor=actor, category=h.category, title=title_, text=text_, lon=h.lon,
                                        lat=h.lat, source=Source.PROACTIVE)
        # Source "proactive" makes the officer its owner at street level (not the grid's first responder).
        appeal = services.appeal_accept(actor=actor, appeal=appeal.pk, version=appeal.version,
                                        note=_("由热点预警转为未诉先办，街道主动受理。"))
        Hotspot.objects.filter(pk=h.pk).update(proactive_appeal=appeal)
        linked = Appeal.objects.filter(hotspot=h, proactive__isnull=True).exclude(pk=appeal.pk).update(
            proactive=appeal)
        audit.record(actor, "hotspot.convert", h, before={"state": HotspotState.OPEN, "version": h.version},
                     after={"state": HotspotState.CONVERTED, "version": h.version + 1, "appeal": appeal.number,
                            "repeats": [number for _pk, number in repeats], "linked": linked})
        return selectors.hotspot_get_for(actor, h.pk)

    return _serialised(run)


def hotspot_dismiss(actor, hotspot, reason, version=None) -> Hotspot:
    """Dismiss a hotspot warning with a reason; its appeals stay linked to it, new repeats warn anew."""
    version = _version(version)

    def run() -> Hotspot:
        h = _locked(actor, hotspot, version)
        reason_ = _text(reason, field_label=_("忽略原因"), max_len=REASON_MAX)
        now = timezone.now()
        if Hotspot.objects.filter(pk=h.pk, state=HotspotState.OPEN, version=h.version).update(
                state=HotspotState.DISMISSED, version=F("version") + 1, dismissed_reason=reason_,
                handled_by=actor, handled_at=now, updated_at=now) != 1:
            raise _stale(h.pk)
        audit.record(actor, "hotspot.dismiss", h, before={"state": HotspotState.OPEN, "version": h.version},
                     after={"state": HotspotState.DISMISSED, "version": h.version + 1, "reason": reason_})
        return selectors.hotspot_get_for(actor, h.pk)

    return _serialised(run)


HOTSPOT_SERVICES = {CONVERT: hotspot_convert, DISMISS: hotspot_dismiss}
