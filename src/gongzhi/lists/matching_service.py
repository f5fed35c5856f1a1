"""Matching proposals for a scope's open needs, and confirming them into dispatches.

`matching_propose` reads the open needs of a place subtree and the resources that could serve
them, keeps only feasible pairs (same skill, or a generic helper for needs that need no
qualification; inside the service area; active and available by the due date; capacity left),
prices each pair (distance, generic vs exact skill) and each need (urgent and due-soon needs are
cheaper to serve, so they win when there is not enough capacity for all), adds every owner's
convex load cost (its open projects count), and lets `matching.solve` find the optimal
assignment. Every pair carries its reason; every need left out carries why.

`matching_confirm` turns chosen pairs into dispatches through `services.need_dispatch`, one pair
per transaction, and reports each pair: dispatched, or why not (a 409 for a need taken meanwhile
does not stop the others).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import bounds, pii, scopes
from gongzhi.core.errors import Conflict, GongzhiError, NotFound, ValidationFailed
from gongzhi.core.transactions import serialised
from gongzhi.places.models import Place

from . import matching
from .models import Need, NeedState, Project, ProjectState, Resource, Skill, TakerKind, Urgency

# Cost units are "metres / 10": one point is ten metres of travel.
DISTANCE_CAP_M = 20_000
DISTANCE_UNKNOWN_M = 3_000  # when neither side has a location, price it as an average trip
GENERIC_PENALTY = 300  # a generic helper instead of the exact skill costs as much as 3 km more
LOAD_WEIGHT = 100  # each project an owner already holds makes its next one cost 1 km more
URGENT_DISCOUNT = 10_000  # urgent needs are served first when capacity is short
DUE_DAY_COST = 50  # per day until due (capped): sooner due, served first
DUE_DAYS_CAP = 60
MAX_NEEDS = 20_000
MAX_CONFIRM = 500
ALTERNATIVES = 5

# Needs a generic helper (a resource of skill "other") may take: no qualification, no goods or money.
GENERIC_OK = {Skill.ELDERLY, Skill.CLEANING, Skill.CULTURE, Skill.OTHER}
OPEN_PROJECT_STATES = (ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED)

# Why a need has no taker, most specific last (the furthest check a need got through wins).
NO_SKILL, OUT_OF_AREA, UNAVAILABLE, FULL, OUTBID = "no_skill", "out_of_area", "unavailable", "full", "outbid"


def unmatched_reason(code: str) -> str:
    return {
        NO_SKILL: _("无匹配技能的资源"),
        OUT_OF_AREA: _("服务范围外：同类资源均不覆盖该社区"),
        UNAVAILABLE: _("资源在期望完成日期前不可用"),
        FULL: _("资源容量已满"),
        OUTBID: _("可承接的资源已分配给更紧急或更合适的需求"),
    }[code]


@dataclass
class Candidate:
    """One feasible resource for a need, with its pair cost and the parts of the reason."""

    resource: Resource
    cost: int
    distance_m: int | None
    exact_skill: bool
    area_label: tuple[str, str]
    basis: tuple[str | None, str | None] = (None, None)

    @property
    def distance_note(self) -> str:
        return distance_text(self.distance_m, self.basis)

    @property
    def taker_name(self) -> str:
        return taker_display(self.resource)


@dataclass
class Pair:
    need: Need
    resource: Resource
    cost: int
    reason: str
    distance_m: int | None
    alternatives: list[Candidate] = field(default_factory=list)
    basis: tuple[str | None, str | None] = (None, None)

    @property
    def distance_note(self) -> str:
        return distance_text(self.distance_m, self.basis)

    @property
    def taker_name(self) -> str:
        return taker_display(self.resource)


@dataclass
class Unmatched:
    need: Need
    code: str
    reason: str


@dataclass
class Proposal:
    place: Place
    pairs: list[Pair]
    unmatched: list[Unmatched]
    stats: dict


@dataclass
class ConfirmResult:
    need_number: str
    resource_id: int
    status: str  # "dispatched" | "conflict" | "rejected"
    project_number: str = ""
    code: str = ""
    message: str = ""


# ---- reading the scope ----

def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1)]


def resolve_place(*, actor, place_id: int | None = None, place_code: str = "") -> Place:
    """The scope the actor asks to match in; 404 alike for missing and out of scope."""
    if not place_id and not place_code:
        raise ValidationFailed("place_required", _("请指定要匹配的社区或街道。"))
    qs = Place.objects.all()
    place = qs.filter(pk=place_id).first() if place_id else qs.filter(code=place_code).first()
    if place is None:
        raise NotFound("place_not_found", _("找不到该地区。"))
    scopes.require(actor, "lists.dispatch", place)
    return place


def dispatch_places(actor) -> list[Place]:
    """The places the actor may run matching in (the board's scope picker)."""
    if actor.is_superuser:
        return list(Place.objects.filter(kind="community").order_by("path")[:200])
    paths = [s.path for s in scopes.scopes_of(actor)
             if s.kind == "place" and "lists.dispatch" in scopes.ROLE_ACTIONS.get(s.role, ())]
    return list(Place.objects.filter(path__in=paths).order_by("path"))


def open_needs(place: Place, numbers: list[str] | None = None):
    qs = Need.objects.filter(state=NeedState.OPEN, place_path__startswith=place.path).select_related("place")
    if numbers is not None:
        qs = qs.filter(number__in=numbers)
    return qs.order_by("due_on", "id")


def candidate_resources(place: Place) -> list[Resource]:
    """Active resources that might serve some need under `place` (feasibility is checked per need)."""
    anc = _ancestors(place.path)
    by_place = Resource.places.through.objects.filter(
        Q(place__path__startswith=place.path) | Q(place__path__in=anc)).values("resource_id")
    by_grid = Resource.grids.through.objects.filter(grid__place_path__startswith=place.path).values("resource_id")
    qs = (Resource.objects.filter(active=True)
          .filter(Q(pk__in=by_place) | Q(pk__in=by_grid) | Q(place_path__startswith=place.path) | Q(place_path__in=anc))
          .select_related("organization", "team", "person")
          .order_by("id"))
    resources = list(qs)
    attach_areas(resources)
    return resources


def attach_areas(resources: list[Resource]) -> None:
    """Load every resource's service area in two queries (cheaper than prefetching model rows)."""
    by_id = {r.pk: r for r in resources}
    for r in resources:
        r._gz_area = ([], [])
    through = Resource.places.through.objects.filter(resource_id__in=by_id)
    for rid, path, name in through.values_list("resource_id", "place__path", "place__name"):
        by_id[rid]._gz_area[0].append((path, name))
    through = Resource.grids.through.objects.filter(resource_id__in=by_id)
    for rid, path, name in through.values_list("resource_id", "grid__path", "grid__name"):
        by_id[rid]._gz_area[1].append((path, name))


def owner_key(resource: Resource) -> tuple[str, int]:
    if resource.owner_kind == TakerKind.ORGANIZATION:
        return (TakerKind.ORGANIZATION, resource.organization_id)
    if resource.owner_kind == TakerKind.TEAM:
        return (TakerKind.TEAM, resource.team_id)
    return (TakerKind.PERSON, resource.person_id)


def taker_fields(resource: Resource) -> dict:
    """The keyword arguments of services.need_dispatch naming the resource's owner as the taker."""
    return {
        "taker_organization": resource.organization if resource.owner_kind == TakerKind.ORGANIZATION else None,
        "taker_team": resource.team if resource.owner_kind == TakerKind.TEAM else None,
        "taker_person": resource.person if resource.owner_kind == TakerKind.PERSON else None,
    }


def taker_display(resource: Resource) -> str:
    """The taker's name as staff see it on the board: a member's name is masked (张**)."""
    owner = resource.owner
    return pii.mask_name(owner.name) if resource.owner_kind == TakerKind.PERSON else owner.name


def owner_label_for(kind: str) -> str:
    return {TakerKind.ORGANIZATION: _("该单位"), TakerKind.TEAM: _("该服务队")}.get(kind, _("该党员"))


def _load(resources: list[Resource]) -> tuple[dict[int, int], dict[tuple[str, int], int]]:
    """Open projects per resource and per owner (unit, team, member), in a fixed number of queries."""
    open_projects = Project.objects.filter(state__in=OPEN_PROJECT_STATES)
    ids = [r.pk for r in resources]
    per_resource = dict(open_projects.filter(resource_id__in=ids).values_list("resource_id").annotate(n=Count("id")))
    per_owner: dict[tuple[str, int], int] = {}
    for kind, attr, fk in ((TakerKind.ORGANIZATION, "organization_id", "taker_organization_id"),
                           (TakerKind.TEAM, "team_id", "taker_team_id"),
                           (TakerKind.PERSON, "person_id", "taker_person_id")):
        owner_ids = {getattr(r, attr) for r in resources if r.owner_kind == kind}
        if owner_ids:
            rows = open_projects.filter(**{f"{fk}__in": owner_ids}).values_list(fk).annotate(n=Count("id"))
            per_owner.update({(kind, oid): n for oid, n in rows})
    return per_resource, per_owner


# ---- feasibility and cost of one pair ----

def _metres(p1, p2) -> int:
    (lon1, lat1), (lon2, lat2) = p1, p2
    r1, r2 = math.radians(lat1), math.radians(lat2)
    dp, dl = r2 - r1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(r1) * math.cos(r2) * math.sin(dl / 2) ** 2
    return int(round(2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))))


def _centre(min_lon, min_lat, max_lon, max_lat):
    if None in (min_lon, min_lat, max_lon, max_lat):
        return None
    return ((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)


# Where a side's point was taken from: its own point, or the centre of the area it belongs to.
NEED_POINT, NEED_GRID, NEED_PLACE = "need_point", "need_grid", "need_place"
RES_POINT, RES_HOME, RES_AREA = "resource_point", "resource_home", "resource_area"
ESTIMATED = (NEED_GRID, NEED_PLACE, RES_HOME, RES_AREA)


class Locator:
    """Where needs and resources are, for the distance between them.

    A need: its own point, else the centre of its grid, else of its community (the place's point, or
    the box of its grids). A resource: its own point, else the centre of its owner's community (a
    unit's, a team's, a member's), else of the part of its service area that covers the need. Each
    point says where it came from, so the board can say "about" and why; when neither is known the
    distance is None and `why` says which side has no location.
    Three queries for a whole proposal, whatever its size."""

    def __init__(self, needs, resources):
        from gongzhi.places.models import Grid

        for r in resources:
            if not hasattr(r, "_gz_area"):
                attach_areas([r])
        place_paths = {n.place_path for n in needs} | {r.place_path for r in resources if r.place_path}
        place_paths |= {path for r in resources for path, _name in r._gz_area[0]}
        grid_paths = {n.grid_path for n in needs if n.grid_path}
        grid_paths |= {path for r in resources for path, _name in r._gz_area[1]}
        self.places: dict[str, tuple[float, float]] = {}
        for path, lon, lat in Place.objects.filter(path__in=place_paths).values_list("path", "lon", "lat"):
            if lon is not None and lat is not None:
                self.places[path] = (lon, lat)
        missing = place_paths - set(self.places)
        if missing:
            rows = (Grid.objects.filter(community__path__in=missing).values("community__path")
                    .annotate(a=Min("min_lon"), b=Min("min_lat"), c=Max("max_lon"), d=Max("max_lat"))
                    .values_list("community__path", "a", "b", "c", "d").order_by())
            for path, *box in rows:
                centre = _centre(*box)
                if centre is not None:
                    self.places[path] = centre
        self.grids = {}
        for path, *box in Grid.objects.filter(path__in=grid_paths).values_list(
                "path", "min_lon", "min_lat", "max_lon", "max_lat"):
            centre = _centre(*box)
            if centre is not None:
                self.grids[path] = centre

    def need_point(self, need: Need):
        if need.lon is not None and need.lat is not None:
            return (need.lon, need.lat), NEED_POINT
        if need.grid_path in self.grids:
            return self.grids[need.grid_path], NEED_GRID
        if need.place_path in self.places:
            return self.places[need.place_path], NEED_PLACE
        return None, None

    def resource_point(self, resource: Resource, need: Need):
        if resource.lon is not None and resource.lat is not None:
            return (resource.lon, resource.lat), RES_POINT
        if resource.place_path in self.places:
            return self.places[resource.place_path], RES_HOME
        places, grids = resource._gz_area
        for path, _name in grids:
            if need.grid_path and need.grid_path.startswith(path) and path in self.grids:
                return self.grids[path], RES_AREA
        for path, _name in places:
            if need.place_path.startswith(path) and path in self.places:
                return self.places[path], RES_AREA
        return None, None

    def distance(self, need: Need, resource: Resource) -> tuple[int | None, tuple[str | None, str | None]]:
        """(metres or None, (where the need's point came from, where the resource's did))."""
        p1, b1 = self.need_point(need)
        p2, b2 = self.resource_point(resource, need)
        if p1 is None or p2 is None:
            return None, (b1, b2)
        return _metres(p1, p2), (b1, b2)


class _Area:
    """A resource's service area: its communities and grids, or else its owner's place subtree."""

    def __init__(self, resource: Resource):
        if not hasattr(resource, "_gz_area"):
            attach_areas([resource])
        self.places, self.grids = resource._gz_area
        self.home = resource.place_path

    def label_for(self, need: Need) -> tuple[str, str] | None:
        """("area", name of the covering community or grid) or ("home", need's community); None if outside."""
        for path, name in self.places:
            if need.place_path.startswith(path):
                return ("area", name)
        for path, name in self.grids:
            if need.grid_path and need.grid_path.startswith(path):
                return ("area", name)
        if not self.places and not self.grids and self.home and need.place_path.startswith(self.home):
            return ("home", need.place.name)
        return None


def _skill_fit(need: Need, resource: Resource) -> bool | None:
    """True for the exact skill, False for a generic helper that may take it, None if not at all."""
    if resource.skill == need.skill:
        return True
    if resource.skill == Skill.OTHER and need.skill in GENERIC_OK:
        return False
    return None


def _available(resource: Resource, need: Need, today) -> bool:
    """Available some day between now and the need's due date."""
    if resource.available_from and resource.available_from > need.due_on:
        return False
    return not (resource.available_until and resource.available_until < today)


def need_cost(need: Need, today) -> int:
    days = min(max((need.due_on - today).days, 0), DUE_DAYS_CAP)
    return (0 if need.urgency == Urgency.URGENT else URGENT_DISCOUNT) + DUE_DAY_COST * days


def reason_texts() -> dict:
    """The reason's phrases in the current language, translated once per proposal rather than per pair."""
    return {
        "exact": _("技能匹配：%(skill)s"), "generic": _("通用志愿服务可承接：%(skill)s"),
        "area": _("服务范围含%(name)s"), "home": _("提供方所在地区含%(name)s"),
        "distance": _("距离 %(m)s 米"), "about": _("距离约 %(m)s 米（%(basis)s）"),
        "far": _("距离未知：%(why)s"), "load": _("%(owner)s当前 %(n)s 项在办"),
        "urgent": _("紧急需求优先"), "sep": _("；"),
        "basis": basis_texts(),
        "skills": {value: str(label) for value, label in Skill.choices},
        "owners": {kind: owner_label_for(kind) for kind in TakerKind.values},
    }


def basis_texts() -> dict:
    return {
        NEED_GRID: _("需求按所在网格中心"), NEED_PLACE: _("需求按所在社区中心"),
        RES_HOME: _("提供方按其所在社区中心"), RES_AREA: _("提供方按服务范围中心"),
        "need_none": _("需求没有位置，其网格和社区也没有中心点"),
        "resource_none": _("提供方没有登记位置，其所在社区和服务范围也没有中心点"),
    }


def distance_text(metres: int | None, basis, texts: dict | None = None) -> str:
    """"距离 850 米", "距离约 1200 米（需求按所在网格中心）" or "距离未知：<which side has no location>"."""
    t = texts or {"distance": _("距离 %(m)s 米"), "about": _("距离约 %(m)s 米（%(basis)s）"),
                  "far": _("距离未知：%(why)s"), "sep": _("；"), "basis": basis_texts()}
    b = t["basis"]
    if metres is None:
        why = [b["need_none"]] if basis[0] is None else []
        if basis[1] is None:
            why.append(b["resource_none"])
        return t["far"] % {"why": t["sep"].join(why)}
    estimated = [b[x] for x in basis if x in ESTIMATED]
    if not estimated:
        return t["distance"] % {"m": metres}
    return t["about"] % {"m": metres, "basis": _("、").join(estimated)}


def pair_reason(need: Need, cand: Candidate, owner_open: int, resource: Resource, texts: dict | None = None) -> str:
    t = texts or reason_texts()
    skill = t["skills"].get(need.skill, need.skill)
    parts = [
        t["exact" if cand.exact_skill else "generic"] % {"skill": skill},
        t[cand.area_label[0]] % {"name": cand.area_label[1]},
        distance_text(cand.distance_m, cand.basis, t),
        t["load"] % {"owner": t["owners"][resource.owner_kind], "n": owner_open},
    ]
    if need.urgency == Urgency.URGENT:
        parts.append(t["urgent"])
    return t["sep"].join(parts)


class _Feasibility:
    """Candidates of each need among the scope's resources, and the reason when there are none.

    Resources are indexed by (skill, area node): a need looks up its skill (and "other" when a
    generic helper may take it) at each ancestor of its community and of its grid, so the work per
    need is its candidates, not the scope's resources."""

    def __init__(self, resources: list[Resource], used: dict[int, int], today, offered: set[str],
                 locator: Locator | None = None):
        self.today = today
        self.locator = locator or Locator([], resources)
        # Skills some active resource anywhere offers: a need whose skill nobody near offers is
        # "out of area" when someone elsewhere does, and "no such skill" otherwise.
        self.offered = offered
        self.left = {r.pk: r.capacity - used.get(r.pk, 0) for r in resources}
        self.areas = {r.pk: _Area(r) for r in resources}
        self.index: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for r in resources:
            area = self.areas[r.pk]
            keys = [("p" + path) for path, _name in area.places] + [("g" + path) for path, _name in area.grids]
            if not keys and area.home:
                keys = ["p" + area.home]
            for key in keys:
                self.index[(r.skill, key)].append(r)

    def _skills(self, need: Need) -> list[str]:
        return [need.skill, Skill.OTHER] if need.skill != Skill.OTHER and need.skill in GENERIC_OK else [need.skill]

    def candidates(self, need: Need) -> tuple[list[Candidate], str | None]:
        skills = self._skills(need)
        nodes = ["p" + a for a in _ancestors(need.place_path)]
        if need.grid_path:
            nodes += ["g" + a for a in _ancestors(need.grid_path)]
        pool = {r.pk: r for skill in skills for node in nodes for r in self.index.get((skill, node), ())}
        if not pool:
            return [], OUT_OF_AREA if self.offered.intersection(skills) else NO_SKILL
        furthest = OUT_OF_AREA
        out = []
        for r in pool.values():
            exact = _skill_fit(need, r)
            area = self.areas[r.pk].label_for(need)
            if exact is None or area is None:
                continue
            if not _available(r, need, self.today):
                furthest = furthest if furthest == FULL else UNAVAILABLE
                continue
            if self.left[r.pk] <= 0:
                furthest = FULL
                continue
            dist, basis = self.locator.distance(need, r)
            metres = DISTANCE_UNKNOWN_M if dist is None else min(dist, DISTANCE_CAP_M)
            out.append(Candidate(r, metres // 10 + (0 if exact else GENERIC_PENALTY), dist, exact, area, basis))
        if out:
            return out, None
        return [], furthest


# ---- the two use cases ----

def matching_propose(*, actor, place: Place, need_numbers: list[str] | None = None) -> Proposal:
    """The optimal proposal for the open needs under `place` (or only the given numbers among them)."""
    scopes.require(actor, "lists.dispatch", place)
    started = time.perf_counter()
    today = timezone.localdate()
    if need_numbers is not None:
        numbers = list(dict.fromkeys(n.strip() for n in need_numbers if n and n.strip()))
        if not numbers:
            raise ValidationFailed("needs_empty", _("请至少选择一条需求。"))
        if len(numbers) > MAX_NEEDS:
            raise ValidationFailed("too_many", _("一次最多匹配 %(n)s 条需求。") % {"n": MAX_NEEDS})
        known = set(Need.objects.filter(number__in=numbers, place_path__startswith=place.path)
                    .values_list("number", flat=True))
        missing = [n for n in numbers if n not in known]
        if missing:
            raise ValidationFailed("needs_not_found", _("以下需求不存在或不在该地区：%(list)s")
                                   % {"list": "、".join(missing[:20])}, {"needs": missing})
        needs = list(open_needs(place, numbers))
        not_open = [n for n in numbers if n not in {x.number for x in needs}]
    else:
        needs = list(open_needs(place)[: MAX_NEEDS + 1])
        if len(needs) > MAX_NEEDS:
            raise ValidationFailed("too_many", _("该地区待匹配需求超过 %(n)s 条，请按社区分批匹配。") % {"n": MAX_NEEDS})
        not_open = []
    # Priority order: urgent first, then sooner due, then older. The greedy baseline walks this order.
    needs.sort(key=lambda n: (n.urgency != Urgency.URGENT, n.due_on, n.id))

    resources = candidate_resources(place) if needs else []
    used, owner_open = _load(resources)
    offered = set()
    if needs:
        offered = set(Resource.objects.filter(active=True).order_by().values_list("skill", flat=True).distinct())
    feas = _Feasibility(resources, used, today, offered, Locator(needs, resources) if needs else None)
    res_index = {r.pk: k for k, r in enumerate(resources)}
    owners: dict[tuple[str, int], int] = {}
    for r in resources:
        owners.setdefault(owner_key(r), len(owners))

    edges: list[tuple[int, int, int]] = []
    cands: list[list[Candidate]] = []
    why: dict[int, str] = {}
    for i, need in enumerate(needs):
        cs, code = feas.candidates(need)
        cs.sort(key=lambda c: (c.cost, c.resource.pk))
        cands.append(cs)
        if code:
            why[i] = code
        for c in cs:
            edges.append((i, res_index[c.resource.pk], c.cost))

    problem = matching.Problem(
        n_needs=len(needs),
        n_resources=len(resources),
        edges=edges,
        capacity=[max(feas.left[r.pk], 0) for r in resources],
        owner=[owners[owner_key(r)] for r in resources],
        owner_open=[owner_open.get(k, 0) for k in owners],
        load_weight=LOAD_WEIGHT,
        need_cost=[need_cost(n, today) for n in needs],
    )
    solve_started = time.perf_counter()
    solution = matching.solve(problem)
    solve_ms = (time.perf_counter() - solve_started) * 1000
    greedy_started = time.perf_counter()
    greedy = matching.greedy_first_fit(problem)
    greedy_ms = (time.perf_counter() - greedy_started) * 1000

    pairs: list[Pair] = []
    unmatched: list[Unmatched] = []
    taken_by_owner: dict[int, int] = defaultdict(int)
    texts = reason_texts()
    reasons = {code: unmatched_reason(code) for code in (NO_SKILL, OUT_OF_AREA, UNAVAILABLE, FULL, OUTBID)}
    for i, need in enumerate(needs):
        r_idx = solution.assignment[i]
        if r_idx == matching.UNMATCHED:
            code = why.get(i, OUTBID)
            unmatched.append(Unmatched(need, code, reasons[code]))
            continue
        resource = resources[r_idx]
        o = problem.owner[r_idx]
        taken_by_owner[o] += 1
        cand = next(c for c in cands[i] if c.resource.pk == resource.pk)
        load = problem.load_cost(o, taken_by_owner[o])
        reason = pair_reason(need, cand, problem.owner_open[o] + taken_by_owner[o] - 1, resource, texts)
        pairs.append(Pair(need, resource, cand.cost + load, reason, cand.distance_m,
                          [c for c in cands[i] if c.resource.pk != resource.pk][:ALTERNATIVES], cand.basis))
    for need in Need.objects.filter(number__in=not_open).select_related("place").order_by("number"):
        unmatched.append(Unmatched(need, "not_open", _("需求当前状态为“%(state)s”，不能派单")
                                   % {"state": need.get_state_display()}))
    stats = {
        "needs": len(needs),
        "resources": len(resources),
        "edges": len(edges),
        "matched": solution.matched,
        "unmatched": len(unmatched),
        "total_cost": solution.cost,
        "service_cost": matching.service_cost(problem, solution.assignment),
        "greedy_matched": greedy.matched,
        "greedy_cost": greedy.cost,
        "greedy_service_cost": matching.service_cost(problem, greedy.assignment),
        "solve_ms": round(solve_ms, 1),
        "greedy_ms": round(greedy_ms, 1),
        "total_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return Proposal(place, pairs, unmatched, stats)


def check_pair(need: Need, resource: Resource, today=None) -> None:
    """Refuse a pair the worker edited in that no proposal could contain (400 with the reason)."""
    today = today or timezone.localdate()
    if not resource.active:
        raise ValidationFailed("resource_inactive", _("该资源已停用。"))
    if _skill_fit(need, resource) is None:
        raise ValidationFailed("skill_mismatch", _("资源与需求技能不匹配。"))
    if _Area(resource).label_for(need) is None:
        raise ValidationFailed("out_of_area", _("需求不在该资源的服务范围内。"))
    if not _available(resource, need, today):
        raise ValidationFailed("unavailable", unmatched_reason(UNAVAILABLE))
    used = Project.objects.filter(resource=resource, state__in=OPEN_PROJECT_STATES).count()
    if used >= resource.capacity:
        raise ValidationFailed("resource_full", unmatched_reason(FULL))


def _dispatch_pair(actor, need: Need, resource: Resource, version, today) -> Project:
    """Check the pair and dispatch it in one transaction, the resource row locked: two confirms filling
    the last place of one resource at once leave one dispatched and one "资源容量已满"."""
    from . import services

    def write() -> Project:
        Resource.objects.select_for_update().filter(pk=resource.pk).values_list("pk").first()
        check_pair(need, resource, today)
        return services.need_dispatch(actor=actor, need=need, resource=resource, version=version,
                                      **taker_fields(resource))

    return serialised(write, _("系统正忙，有人正在派同一资源，请稍后重试。"))


def matching_confirm(*, actor, pairs: list[dict]) -> list[ConfirmResult]:
    """Dispatch each chosen pair through services.need_dispatch, one transaction each.

    `pairs` holds dicts {need_number, resource_id, version?}. A pair that fails (need taken
    meanwhile → conflict; out of scope, infeasible → rejected) is reported and the rest go on.
    """
    from . import services  # the lists core's write door

    if not pairs:
        raise ValidationFailed("pairs_empty", _("请至少选择一个匹配对。"))
    if len(pairs) > MAX_CONFIRM:
        raise ValidationFailed("too_many", _("一次最多确认 %(n)s 个匹配对。") % {"n": MAX_CONFIRM})
    numbers = [str(p.get("need_number") or "").strip() for p in pairs]
    if any(not n for n in numbers) or any(not isinstance(p.get("resource_id"), int) for p in pairs):
        raise ValidationFailed("pair_invalid", _("每个匹配对都要有需求编号和资源编号。"))
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})
    if dupes:
        raise ValidationFailed("pair_duplicate", _("同一需求只能派给一个承接方：%(list)s") % {"list": "、".join(dupes)})
    scopes.require(actor, "lists.dispatch")

    needs = {n.number: n for n in Need.objects.filter(number__in=numbers).select_related("place")}
    resources = {r.pk: r for r in Resource.objects.filter(pk__in=bounds.db_ids(p["resource_id"] for p in pairs))
                 .select_related("organization", "team", "person")}
    today = timezone.localdate()
    results = []
    for number, pair in zip(numbers, pairs, strict=True):
        rid = pair["resource_id"]
        result = ConfirmResult(number, rid, "rejected")
        need, resource = needs.get(number), resources.get(rid)
        try:
            if need is None or not scopes.can(actor, "lists.view", need):
                raise NotFound("need_not_found", _("找不到需求 %(number)s。") % {"number": number})
            if resource is None:
                raise NotFound("resource_not_found", _("找不到该资源。"))
            if need.state != NeedState.OPEN:
                raise Conflict("already_taken", services.taken_message(), {"state": need.state})
            project = _dispatch_pair(actor, need, resource, pair.get("version"), today)
            result.status, result.project_number = "dispatched", project.number
        except GongzhiError as exc:
            result.status = "conflict" if exc.status == 409 else "rejected"
            result.code, result.message = exc.code, str(exc.message)
        results.append(result)
    return results
