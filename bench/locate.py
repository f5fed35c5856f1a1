"""Point → micro grid: index build time and per-lookup latency at city scale and 10×, against a full scan.

Run: .venv/bin/python bench/locate.py [--points 100000] [--scan 300] [--strict]
Grids come from the demo's pure tiling (no database). Exit 1 if the index and the scan ever disagree
(and, with --strict, if a target is missed): ≤ 20 µs median per lookup at 67,640 grids, ≥ 100× the scan.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import shapely
from shapely.geometry import shape

from gongzhi.core.geo import GridIndex, brute_force_locate
from gongzhi.demo import plan, tiling

TARGET_MEDIAN_US = 20.0
TARGET_RATIO = 100.0


def micro_items(communities: list[tuple[str, tuple, int]]) -> list[tuple[int, str, dict]]:
    """Each community cut into 26 micro grids: 5 columns of 5 rows, the last column 6 (7 where extra=1)."""
    items: list[tuple[int, str, dict]] = []
    for code, bbox, extra in communities:
        for s in tiling.tile_community(code, "", bbox, areas=5, rows=5, extra=1 + extra):
            if s.level == "micro":
                items.append((len(items) + 1, s.code, s.geometry))
    return items


def city_scale() -> list[tuple[int, str, dict]]:
    """The demo city's 260 communities where they really sit: 6,764 micro grids."""
    return micro_items([(c.code, c.bbox, c.extra) for c in plan.build("city").communities])


def ten_times() -> list[tuple[int, str, dict]]:
    """2,600 communities in one lattice (40 with an extra micro grid): 67,640 micro grids."""
    n = 2600
    cols, _rows = tiling.lattice_shape(n)
    boxes = tiling.lattice(n, 108.0, 22.5, cols)
    return micro_items([(f"9{i:011d}", b, 1 if i % 65 == 0 else 0) for i, b in enumerate(boxes)])


def timed(idx: GridIndex, pts: list[tuple[float, float]]) -> tuple[list[int], list[int | None]]:
    ns, answers = [], []
    locate, clock = idx.locate, time.perf_counter_ns
    for x, y in pts:
        t0 = clock()
        a = locate(x, y)
        t1 = clock()
        ns.append(t1 - t0)
        answers.append(a)
    return ns, answers


def pct(values: list[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000.0


def run(label: str, items, n_points: int, n_scan: int, rng: random.Random) -> tuple[float, float, bool]:
    print(f"\n== {label}: {len(items):,} micro grids ==")
    t0 = time.perf_counter()
    idx = GridIndex.build(items)
    build_s = time.perf_counter() - t0
    print(
        f"index build            {build_s * 1000:8.1f} ms  (cell {idx.cell:.6f}°, {len(idx.buckets):,} cells)"
    )

    bounds = [shape(g).bounds for _i, _c, g in items]
    x0, y0 = min(b[0] for b in bounds), min(b[1] for b in bounds)
    x1, y1 = max(b[2] for b in bounds), max(b[3] for b in bounds)
    uniform = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(n_points)]
    # Points that are surely inside a grid (the realistic case: appeals come from where people live).
    inside = []
    for _ in range(n_points):
        b = bounds[rng.randrange(len(bounds))]
        inside.append((rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3])))

    for name, pts in (("uniform in bbox", uniform), ("inside a grid", inside)):
        ns, answers = timed(idx, pts)
        hits = sum(a is not None for a in answers) / len(answers)
        print(
            f"lookup, {name:<15} median {statistics.median(ns) / 1000:6.2f} µs   p99 {pct(ns, 0.99):6.2f} µs"
            f"   ({len(pts):,} points, {hits:.0%} inside a grid)"
        )
    ns_in, _ = timed(idx, inside)
    median_us = statistics.median(ns_in) / 1000

    # The baseline: test every polygon, in code order, until one contains the point.
    geoms = sorted(((gid, code, shape(g)) for gid, code, g in items), key=lambda t: t[1])
    for _gid, _code, g in geoms:
        shapely.prepare(g)
    sample = inside[: n_scan // 2] + uniform[: n_scan - n_scan // 2]
    scan_ns, same = [], True
    for x, y in sample:
        t0 = time.perf_counter_ns()
        expect = brute_force_locate(geoms, x, y)
        scan_ns.append(time.perf_counter_ns() - t0)
        if idx.locate(x, y) != expect:
            same = False
            print(f"MISMATCH at ({x!r}, {y!r}): index {idx.locate(x, y)}, scan {expect}")
    idx_ns, _ = timed(idx, sample)
    scan_median = statistics.median(scan_ns) / 1000
    ratio = statistics.median(scan_ns) / max(1, statistics.median(idx_ns))
    print(
        f"full scan (baseline)   median {scan_median:8.1f} µs over {len(sample)} points; "
        f"index {statistics.median(idx_ns) / 1000:.2f} µs on the same points"
    )
    print(f"speed-up               {ratio:8.0f}×   answers identical on the sample: {same}")
    return median_us, ratio, same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--scan", type=int, default=300)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    rng = random.Random(6764)
    ok = True
    _m, _r, same = run("city scale", city_scale(), args.points, args.scan, rng)
    ok &= same
    median_us, ratio, same = run("10× city scale", ten_times(), args.points, args.scan, rng)
    ok &= same
    met = median_us <= TARGET_MEDIAN_US and ratio >= TARGET_RATIO
    print(
        f"\ntarget at 10×: median ≤ {TARGET_MEDIAN_US:.0f} µs and ≥ {TARGET_RATIO:.0f}× the scan -> "
        f"{median_us:.2f} µs, {ratio:.0f}×: {'met' if met else 'MISSED'}"
    )
    if not ok:
        print("FAIL: the index and the scan disagree")
        return 1
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
