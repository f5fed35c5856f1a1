"""Point → micro grid: a spatial index built once per process and rebuilt when grids change."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape

from gongzhi.core.errors import ValidationFailed

# A candidate: (min lon, min lat, max lon, max lat, grid id, prepared polygon or None for a rectangle).
Candidate = tuple[float, float, float, float, int, object]


def _rectangle_bounds(geometry: dict) -> tuple[float, float, float, float] | None:
    """The box of a GeoJSON polygon that equals its box (then the box test is exact), else None.

    Read from the GeoJSON itself: building a shapely object per rectangle would triple build time.
    """
    if geometry.get("type") != "Polygon":
        return None
    rings = geometry.get("coordinates") or []
    if len(rings) != 1 or len(rings[0]) != 5:
        return None
    ring = rings[0]
    corners = {(float(c[0]), float(c[1])) for c in ring[:4]}
    if len(corners) != 4 or list(ring[0][:2]) != list(ring[4][:2]):
        return None  # four distinct corners, closed: no spike or zero-area "rectangle"
    xs = {float(c[0]) for c in ring}
    ys = {float(c[1]) for c in ring}
    if len(xs) != 2 or len(ys) != 2:
        return None
    # Each edge must change exactly one coordinate (no diagonal "bow-tie" through the same 4 values).
    for a, b in zip(ring[:-1], ring[1:], strict=True):
        if (a[0] == b[0]) == (a[1] == b[1]):
            return None
    return min(xs), min(ys), max(xs), max(ys)


@dataclass
class GridIndex:
    """A uniform bucket grid over the micro grids' bounding boxes.

    A dict maps a cell number to the few candidates whose box meets the cell, in code order. A
    lookup is one dict access and, per candidate, a box test in plain Python. Real grid maps are
    mostly axis-aligned rectangles, and for a polygon that *is* its box the box test is the exact
    answer; any other polygon is then checked exactly by shapely on a prepared geometry. So a lookup
    costs a microsecond or two at any city size and is never approximate. A point on a shared edge
    belongs to the grid with the smallest code, so the answer is stable.
    """

    ids: list[int]
    codes: list[str]
    geoms: list
    origin_lon: float
    origin_lat: float
    cell: float
    buckets: dict[int, tuple[Candidate, ...]]
    version: int = 0
    inv: float = 1.0  # 1 / cell: lookups multiply, and the build uses the very same expression
    stride: int = 1  # cell number = column * stride + row

    @classmethod
    def build(cls, items: list[tuple[int, str, dict]], version: int = 0) -> GridIndex:
        """items: (grid id, code, GeoJSON geometry). Sorted by code so edge ties go to the smallest.

        `geoms` holds the prepared shapely polygon of each grid that is not a plain rectangle, and
        None for a rectangle (its box is its shape).
        """
        items = sorted(items, key=lambda t: t[1])
        ids = [t[0] for t in items]
        codes = [t[1] for t in items]
        if not items:
            return cls([], [], [], 0.0, 0.0, 1.0, {}, version)
        geoms: list = []
        boxes: list[tuple[float, float, float, float]] = []
        for _gid, _code, geometry in items:
            box = _rectangle_bounds(geometry)
            if box is None:
                g = shape(geometry)
                shapely.prepare(g)
                box = tuple(float(v) for v in g.bounds)
                geoms.append(g)
            else:
                geoms.append(None)
            boxes.append(box)
        b = np.array(boxes, dtype=float)
        minx, miny = float(b[:, 0].min()), float(b[:, 1].min())
        # Cell ≈ the median grid's geometric mean side: a cell meets a handful of grids even when
        # grids are long and thin, and the table stays a few entries per grid.
        sides = np.sqrt(np.maximum(b[:, 2] - b[:, 0], 1e-9) * np.maximum(b[:, 3] - b[:, 1], 1e-9))
        cell = max(float(np.median(sides)), 1e-6)
        inv = 1.0 / cell
        rows = int((float(b[:, 3].max()) - miny) * inv) + 2
        buckets: dict[int, list[Candidate]] = {}
        for gid, geom, (x0, y0, x1, y1) in zip(ids, geoms, boxes, strict=True):
            cand = (x0, y0, x1, y1, gid, geom)
            # int() of a non-negative float is floor; lookups use the same expression, and the
            # expression is monotonic, so every point of the box falls in one of these cells.
            for cx in range(int((x0 - minx) * inv), int((x1 - minx) * inv) + 1):
                base = cx * rows
                for cy in range(int((y0 - miny) * inv), int((y1 - miny) * inv) + 1):
                    key = base + cy
                    bucket = buckets.get(key)
                    if bucket is None:
                        buckets[key] = [cand]
                    else:
                        bucket.append(cand)
        frozen = {k: tuple(v) for k, v in buckets.items()}
        return cls(ids, codes, geoms, minx, miny, cell, frozen, version, inv, rows)

    def locate(self, lon: float, lat: float) -> int | None:
        """The id of the micro grid containing (lon, lat), or None when outside every grid."""
        dx = (lon - self.origin_lon) * self.inv
        dy = (lat - self.origin_lat) * self.inv
        if dx < 0 or dy < 0:
            return None  # west or south of every grid
        # North or east of every grid the number may land on another cell: harmless, since every
        # candidate is tested exactly and none can contain a point outside all boxes.
        cands = self.buckets.get(int(dx) * self.stride + int(dy))
        if cands is None:
            return None
        # Candidates are in code order: the first that contains the point has the smallest code.
        for x0, y0, x1, y1, gid, geom in cands:
            if (
                x0 <= lon <= x1
                and y0 <= lat <= y1
                and (geom is None or shapely.intersects_xy(geom, lon, lat))
            ):
                return gid
        return None

    def __len__(self) -> int:
        return len(self.ids)


def brute_force_locate(items: list[tuple[int, str, object]], lon: float, lat: float) -> int | None:
    """The baseline: test every polygon. items hold shapely geometries sorted by code."""
    for gid, _code, geom in items:
        if shapely.intersects_xy(geom, lon, lat):
            return gid
    return None


def check_point(lon, lat) -> tuple[float, float]:
    """Validate user input for a point; raises ValidationFailed with a clear message."""
    from django.utils.translation import gettext as _

    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationFailed("bad_point", _("经纬度必须是数字（lon=经度，lat=纬度）。")) from None
    if not (math.isfinite(x) and math.isfinite(y)) or not (-180 <= x <= 180 and -90 <= y <= 90):
        raise ValidationFailed(
            "bad_point", _("经纬度超出范围：经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间。")
        )
    return x, y


# ---- the per-process index over the database ----

_lock = threading.Lock()
_current: GridIndex | None = None


def current_version() -> int:
    from gongzhi.places.models import GridIndexVersion

    return GridIndexVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def bump_version() -> None:
    """Call inside the transaction that changed grids.

    The version is a fresh random number, not a counter: a rolled-back change must never leave a
    process holding an index whose version a later, different set of grids would reuse.
    """
    import secrets

    from gongzhi.places.models import GridIndexVersion

    token = secrets.randbits(62) or 1
    if not GridIndexVersion.objects.filter(pk=1).update(version=token):
        GridIndexVersion.objects.update_or_create(pk=1, defaults={"version": token})


def invalidate() -> None:
    """Forget this process's index (used when a located id no longer exists)."""
    global _current
    _current = None


_checked_at = 0.0  # time.monotonic() of this process's last version check that found its index current


def micro_index(max_age: float = 0.0) -> GridIndex:
    """The index of active micro grids, rebuilt if any process changed grids since it was built.

    `max_age` > 0 trusts a version check made that many seconds ago (no query): only for answers
    that are checked again later, like the asynchronous submit's first look at a point."""
    global _current, _checked_at
    idx = _current
    if max_age > 0 and idx is not None and time.monotonic() - _checked_at < max_age:
        return idx
    version = current_version()
    if idx is not None and idx.version == version:
        _checked_at = time.monotonic()
        return idx
    with _lock:
        if _current is not None and _current.version == version:
            return _current
        from gongzhi.places.models import Grid, GridLevel

        rows = Grid.objects.filter(level=GridLevel.MICRO, retired_at__isnull=True).values_list(
            "id", "code", "geometry"
        )
        _current = GridIndex.build(list(rows), version)
        return _current
