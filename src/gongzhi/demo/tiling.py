"""Pure demo geometry (no database): community rectangles per district and grids tiling each one."""

from __future__ import annotations

import math
from dataclasses import dataclass

# A community cell is ~0.006° of longitude by 0.005° of latitude: about 620 m × 550 m at 22.8°N,
# the size of an inner-city community in Nanning.
CELL_W = 0.006
CELL_H = 0.005
DIGITS = 7  # ~1 cm; every shared edge is computed once and rounded once, so neighbours match exactly

# Real district centres (lon, lat); each district's communities form a lattice around its centre.
DISTRICT_CENTRES = {
    "450102": (108.34, 22.86),  # 兴宁区
    "450103": (108.40, 22.80),  # 青秀区
    "450105": (108.28, 22.77),  # 江南区
    "450107": (108.28, 22.85),  # 西乡塘区
    "450108": (108.40, 22.73),  # 良庆区
    "450109": (108.48, 22.76),  # 邕宁区
    "450110": (108.27, 23.16),  # 武鸣区
}
# A community pinned to a real spot: its district's lattice is shifted so this cell's centre lands here.
ANCHORS = {"450102001004": (108.325, 22.825)}  # 北宁社区, by 朝阳广场


def r7(v: float) -> float:
    return round(v, DIGITS)


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A closed counter-clockwise GeoJSON rectangle."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@dataclass(frozen=True)
class GridSpec:
    code: str
    seq: int
    level: str  # community | area | micro
    parent_code: str | None
    name: str
    bbox: tuple[float, float, float, float]

    @property
    def geometry(self) -> dict:
        return rect(*self.bbox)


def lattice_shape(n: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n)))
    return cols, max(1, math.ceil(n / cols))


def lattice(n: int, x0: float, y0: float, cols: int, w: float = CELL_W, h: float = CELL_H):
    """n cells filled row by row (west to east, then northwards) from (x0, y0)."""
    out = []
    for i in range(n):
        c, r = i % cols, i // cols
        out.append((r7(x0 + c * w), r7(y0 + r * h), r7(x0 + (c + 1) * w), r7(y0 + (r + 1) * h)))
    return out


def district_boxes(district: str, community_codes: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """Every urban community of a district (all of them, so a cell never moves with the scale)."""
    codes = sorted(community_codes)
    cols, rows = lattice_shape(len(codes))
    cx, cy = DISTRICT_CENTRES[district]
    x0, y0 = cx - cols * CELL_W / 2, cy - rows * CELL_H / 2
    for code, (ax, ay) in ANCHORS.items():
        if code in codes:
            i = codes.index(code)
            x0 = ax - (i % cols + 0.5) * CELL_W
            y0 = ay - (i // cols + 0.5) * CELL_H
    return dict(zip(codes, lattice(len(codes), r7(x0), r7(y0), cols), strict=True))


def community_boxes(communities: list[tuple[str, str]]) -> dict[str, tuple[float, float, float, float]]:
    """(community code, district 6-digit code) pairs → rectangles; districts never overlap."""
    by_district: dict[str, list[str]] = {}
    for code, district in communities:
        by_district.setdefault(district, []).append(code)
    out: dict[str, tuple[float, float, float, float]] = {}
    blocks = []
    for district, codes in sorted(by_district.items()):
        boxes = district_boxes(district, codes)
        out.update(boxes)
        xs0, ys0, xs1, ys1 = zip(*boxes.values(), strict=True)
        blocks.append((district, min(xs0), min(ys0), max(xs1), max(ys1)))
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                raise ValueError(
                    f"district lattices {a[0]} and {b[0]} overlap: move a centre in DISTRICT_CENTRES"
                )
    return out


def tile_community(
    code: str,
    name: str,
    bbox: tuple[float, float, float, float],
    *,
    areas: int,
    rows: int,
    extra: int = 0,
    start_seq: int = 0,
) -> list[GridSpec]:
    """One community grid, `areas` area grids as columns, each cut into `rows` micro grids as rows.

    The last area gets `extra` more rows (a micro grid split later). Codes are the community code
    plus a 3-digit sequence: the community grid first, then the areas, then the micro grids, so a
    grid's code says its level order. Edges are computed once, so the micro grids tile the
    community grid exactly, with no gap and no overlap.
    """
    x0, y0, x1, y1 = bbox
    seq = start_seq

    def next_code() -> tuple[int, str]:
        nonlocal seq
        seq += 1
        if seq > 999:
            raise ValueError(f"community {code} ran out of grid sequence numbers")
        return seq, f"{code}{seq:03d}"

    s, top = next_code()
    specs = [GridSpec(top, s, "community", None, f"{name}总网格", bbox)]
    xs = [x0] + [r7(x0 + (x1 - x0) * i / areas) for i in range(1, areas)] + [x1]
    area_codes = []
    for i in range(areas):
        s, ac = next_code()
        area_codes.append(ac)
        specs.append(GridSpec(ac, s, "area", top, f"{name}第{i + 1}片区网格", (xs[i], y0, xs[i + 1], y1)))
    for i in range(areas):
        n = rows + (extra if i == areas - 1 else 0)
        ys = [y0] + [r7(y0 + (y1 - y0) * j / n) for j in range(1, n)] + [y1]
        for j in range(n):
            s, mc = next_code()
            specs.append(
                GridSpec(
                    mc,
                    s,
                    "micro",
                    area_codes[i],
                    f"{name}第{i + 1}片区{j + 1}号微网格",
                    (xs[i], ys[j], xs[i + 1], ys[j + 1]),
                )
            )
    return specs
