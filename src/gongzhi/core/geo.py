"""Point → micro grid: a spatial index built once per process and rebuilt when grids change.

The index is a uniform bucket grid over the micro grids' bounding boxes (a dict from cell to the
few candidate polygons), with an exact point-in-polygon test by shapely on prepared geometries.
Rectangles and near-rectangles dominate real grid maps, so a cell holds one to four candidates and a
lookup is a dict access plus one or two `contains_xy` calls. An STRtree build is kept for bulk use.
A point on a shared edge belongs to the grid with the smallest code, so the answer is stable.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape

from gongzhi.core.errors import ValidationFailed


@dataclass
class GridIndex:
    ids: list[int]
    codes: list[str]
    geoms: list
    origin_lon: float
    origin_lat: float
    cell: float
    buckets: dict[tuple[int, int], tuple[int, ...]]
    version: int = 0

    @classmethod
    def build(cls, items: list[tuple[int, str, dict]], version: int = 0) -> GridIndex:
        """items: (grid id, code, GeoJSON geometry). Sorted by code so edge ties go to the smallest."""
        items = sorted(items, key=lambda t: t[1])
        ids = [t[0] for t in items]
        codes = [t[1] for t in items]
        geoms = [shape(t[2]) for t in items]
        for g in geoms:
            shapely.prepare(g)
        if not geoms:
            return cls([], [], [], 0.0, 0.0, 1.0, {})
        bounds = shapely.bounds(np.array(geoms, dtype=object))
        minx, miny = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        # Cell size ≈ the median grid width, so each cell meets a handful of grids.
        widths = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        cell = max(float(np.median(widths)), 1e-6)
        buckets: dict[tuple[int, int], list[int]] = {}
        for i, (x0, y0, x1, y1) in enumerate(bounds):
            for cx in range(int(math.floor((x0 - minx) / cell)), int(math.floor((x1 - minx) / cell)) + 1):
                for cy in range(int(math.floor((y0 - miny) / cell)), int(math.floor((y1 - miny) / cell)) + 1):
                    buckets.setdefault((cx, cy), []).append(i)
        frozen = {k: tuple(v) for k, v in buckets.items()}
        return cls(ids, codes, geoms, minx, miny, cell, frozen, version)

    def locate(self, lon: float, lat: float) -> int | None:
        """The id of the micro grid containing (lon, lat), or None when outside every grid."""
        key = (int(math.floor((lon - self.origin_lon) / self.cell)), int(math.floor((lat - self.origin_lat) / self.cell)))
        cands = self.buckets.get(key)
        if not cands:
            return None
        contains = shapely.intersects_xy
        for i in cands:  # candidates are in code order: the first hit is the smallest code
            if contains(self.geoms[i], lon, lat):
                return self.ids[i]
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
        raise ValidationFailed("bad_point", _("经纬度超出范围：经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间。"))
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


def micro_index() -> GridIndex:
    """The index of active micro grids, rebuilt if any process changed grids since it was built."""
    global _current
    version = current_version()
    idx = _current
    if idx is not None and idx.version == version:
        return idx
    with _lock:
        if _current is not None and _current.version == version:
            return _current
        from gongzhi.places.models import Grid, GridLevel

        rows = Grid.objects.filter(level=GridLevel.MICRO, retired_at__isnull=True).values_list("id", "code", "geometry")
        _current = GridIndex.build(list(rows), version)
        return _current
