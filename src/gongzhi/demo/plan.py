"""What each demo scale contains: its places, communities, grid layouts and quotas (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from . import divisions, tiling

SCALES = ("small", "district", "city")

XINGNING = "450102"
BEINING = "450102001004"
XINGNING_COMMUNITY = "450102001003"
MINSHENG = "450102001000"
CHAOYANG = "450102002000"
# How many communities each district brings to the city scale: Nanning's 260 urban communities
# (city report), shared out in proportion to the communities each district has.
CITY_QUOTAS = {
    "450102": 35,
    "450103": 59,
    "450105": 42,
    "450107": 65,
    "450108": 24,
    "450109": 13,
    "450110": 22,
}
# 260 communities × 26 grids = 6,760; four communities cut one micro grid in two: 6,764 grids.
EXTRA_MICRO_DISTRICTS = ("450103", "450105", "450107", "450108")

BEINING_UNITS = 164  # party organisations in 北宁社区联合党委 (Xingning report)
# Their 9,300 party members, plus the community committee's own: one member key in ten has its file
# with the committee (seed.py), so 10,334 keys give exactly 9,300 members of member units.
BEINING_MEMBERS = 10_334
BEINING_UNIT_MEMBERS = 9_300
OTHER_MEMBERS = 269  # per other community: 10,334 + 259 × 269 ≈ 80,000 party members (city report)


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    stem: str  # name without 社区, made unique in the city
    street: str
    district: str  # 6 digits
    index: int  # position among all urban communities of its district: fixed across scales
    bbox: tuple[float, float, float, float]
    areas: int
    rows: int
    extra: int
    units: int
    members: int

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        return (round((x0 + x1) / 2, 7), round((y0 + y1) / 2, 7))

    def grid_specs(self) -> list[tiling.GridSpec]:
        return tiling.tile_community(
            self.code, self.name, self.bbox, areas=self.areas, rows=self.rows, extra=self.extra
        )


@dataclass(frozen=True)
class PlacePlan:
    code: str
    name: str
    kind: str
    parent_code: str
    lon: float | None
    lat: float | None


@dataclass
class Plan:
    scale: str
    places: list[PlacePlan] = field(default_factory=list)  # parents before children
    communities: list[Community] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)  # 6-digit codes

    @property
    def grid_count(self) -> int:
        return sum(1 + c.areas * (1 + c.rows) + c.extra for c in self.communities)


@lru_cache(maxsize=1)
def _index():
    rows = divisions.load()
    by_code = {d.code: d for d in rows}
    communities = [d for d in rows if d.kind == "community"]
    boxes = tiling.community_boxes([(d.code, d.code[:6]) for d in communities])
    stems: dict[str, list[str]] = {}
    for d in communities:
        stems.setdefault(d.name.removesuffix("社区"), []).append(d.code)
    stem_of = {}
    for stem, codes in stems.items():
        for code in codes:
            # Two 新兴社区 in two districts: the district's short name keeps unit names apart.
            prefix = by_code[code[:6] + "000000"].name.removesuffix("区") if len(codes) > 1 else ""
            stem_of[code] = prefix + stem
    position = {}
    for district in divisions.URBAN_DISTRICTS:
        codes = sorted(d.code for d in communities if d.code.startswith(district))
        position.update({c: i for i, c in enumerate(codes)})
    return by_code, communities, boxes, stem_of, position


def _round_robin(codes: list[str], n: int) -> list[str]:
    """n communities spread over a district's streets (one from each street in turn), by code."""
    streets: dict[str, list[str]] = {}
    for c in sorted(codes):
        streets.setdefault(c[:9], []).append(c)
    queues = [streets[s] for s in sorted(streets)]
    picked: list[str] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop(0))
    return sorted(picked)


def selected_codes(scale: str) -> list[str]:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if scale == "small":
        return sorted([BEINING, XINGNING_COMMUNITY])
    _by_code, communities, *_ = _index()
    districts = [XINGNING] if scale == "district" else list(CITY_QUOTAS)
    out = []
    for d in districts:
        out += _round_robin([c.code for c in communities if c.code.startswith(d)], CITY_QUOTAS[d])
    return sorted(out)


@lru_cache(maxsize=4)
def build(scale: str) -> Plan:
    by_code, _communities, boxes, stem_of, position = _index()
    codes = selected_codes(scale)
    city_codes = selected_codes("city") if scale == "city" else []
    extra_micro = (
        {next(c for c in city_codes if c.startswith(d)) for d in EXTRA_MICRO_DISTRICTS}
        if city_codes
        else set()
    )
    plan = Plan(scale)
    for code in codes:
        d = by_code[code]
        if scale == "small":
            areas, rows, units, members = (
                2,
                6,
                (12 if code == BEINING else 6),
                (40 if code == BEINING else 20),
            )
        else:
            areas, rows = 5, 4
            units = BEINING_UNITS if code == BEINING else 8 + int(code[-3:]) % 5
            members = BEINING_MEMBERS if code == BEINING else OTHER_MEMBERS
        plan.communities.append(
            Community(
                code=code,
                name=d.name,
                stem=stem_of[code],
                street=d.parent_code,
                district=code[:6],
                index=position[code],
                bbox=boxes[code],
                areas=areas,
                rows=rows,
                extra=1 if code in extra_micro else 0,
                units=units,
                members=members,
            )
        )
    # Places: the city, the districts and streets of the chosen communities (and 朝阳街道, home of
    # the 朝阳商圈 industry committee), each centred on all its communities so it never moves.
    street_codes = sorted({c.street for c in plan.communities} | {CHAOYANG})
    district_codes = sorted({s[:6] + "000000" for s in street_codes})
    plan.districts = [d[:6] for d in district_codes]

    def centre_of(prefix: str) -> tuple[float, float]:
        bs = [b for c, b in boxes.items() if c.startswith(prefix)]
        return (
            round(sum(b[0] + b[2] for b in bs) / (2 * len(bs)), 7),
            round(sum(b[1] + b[3] for b in bs) / (2 * len(bs)), 7),
        )

    city = by_code[divisions.CITY_CODE]
    plan.places.append(PlacePlan(city.code, city.name, "city", "", 108.366, 22.817))
    for code in district_codes + street_codes:
        d = by_code[code]
        lon, lat = centre_of(code[:6] if d.kind == "district" else code[:9])
        plan.places.append(PlacePlan(code, d.name, d.kind, d.parent_code, lon, lat))
    for c in plan.communities:
        plan.places.append(PlacePlan(c.code, c.name, "community", c.street, *c.centre))
    return plan


# 大修厂小区 and its nine buildings, named by the residents' bench meeting (Hezhou report).
COMPOUND_NAME = "大修厂小区"
BUILDINGS = ("和安楼", "和美楼", "和睦楼", "和谐楼", "和顺楼", "和润楼", "和善楼", "和泰楼", "和悦楼")


def compound_places(beining: Community) -> list[PlacePlan]:
    """The compound sits in 北宁's first micro grid; buildings in a 3 × 3 block inside it."""
    x0, y0, x1, y1 = beining.bbox
    cx, cy = x0 + (x1 - x0) * 0.08, y0 + (y1 - y0) * 0.06
    code = beining.code + "001"
    out = [PlacePlan(code, COMPOUND_NAME, "compound", beining.code, round(cx, 7), round(cy, 7))]
    for i, name in enumerate(BUILDINGS):
        out.append(
            PlacePlan(
                f"{code}{i + 1:03d}",
                name,
                "building",
                code,
                round(cx + (i % 3 - 1) * 0.0003, 7),
                round(cy + (i // 3 - 1) * 0.0002, 7),
            )
        )
    return out


# Landmarks residents name a spot by, per community (places.Landmark): a few at small and district
# scale; fewer at city scale, where 260 communities would otherwise bring a thousand.
LANDMARKS = (("菜市场", 0.27, 0.35), ("小学", 0.62, 0.22), ("公交站", 0.41, 0.71), ("文化广场", 0.78, 0.64))
LANDMARKS_PER_COMMUNITY = {"small": 4, "district": 4, "city": 2}


def landmarks(scale: str, community: Community) -> list[tuple[str, float, float]]:
    """(name, lon, lat) of the community's demo landmarks, each well inside its box (so inside a grid)."""
    x0, y0, x1, y1 = community.bbox
    return [(community.stem + suffix, round(x0 + (x1 - x0) * fx, 7), round(y0 + (y1 - y0) * fy, 7))
            for suffix, fx, fy in LANDMARKS[:LANDMARKS_PER_COMMUNITY[scale]]]
