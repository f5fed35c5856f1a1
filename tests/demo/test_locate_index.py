"""The point index stays exact for any polygon: it agrees with a full scan, edges included."""

import random

import shapely
from shapely.geometry import Polygon, shape

from gongzhi.core.geo import GridIndex, brute_force_locate
from gongzhi.demo import tiling


def scan_items(items):
    geoms = sorted(((gid, code, shape(g)) for gid, code, g in items), key=lambda t: t[1])
    return geoms


def assert_agrees(items, points):
    idx = GridIndex.build(items)
    scan = scan_items(items)
    for x, y in points:
        assert idx.locate(x, y) == brute_force_locate(scan, x, y), (x, y)


def test_agrees_with_the_scan_on_rectangles_including_shared_edges_and_corners():
    items = []
    for s in tiling.tile_community(
        "450102001004", "北宁社区", (108.322, 22.8225, 108.328, 22.8275), areas=5, rows=4
    ):
        if s.level == "micro":
            items.append((len(items) + 1, s.code, s.geometry))
    rng = random.Random(1)
    pts = [(rng.uniform(108.321, 108.329), rng.uniform(22.822, 22.828)) for _ in range(3000)]
    # Every vertex: corners and shared edges, where the smallest code must win.
    pts += [tuple(pt) for _i, _c, g in items for pt in g["coordinates"][0]]
    assert_agrees(items, pts)


def test_agrees_with_the_scan_on_triangles_holes_and_multipolygons():
    ring = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
    hole = [(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)]
    items = [
        (1, "A001", shapely.geometry.mapping(Polygon(ring, [hole]))),  # a square with a hole
        (
            2,
            "A002",
            {"type": "Polygon", "coordinates": [[[1, 1], [3, 1], [2, 3], [1, 1]]]},
        ),  # triangle in the hole
        (
            3,
            "A003",
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[5, 0], [6, 0], [6, 1], [5, 1], [5, 0]]],
                    [[[5, 3], [6, 3], [6, 4], [5, 4], [5, 3]]],
                ],
            },
        ),
        # Same four values as a rectangle, but a bow-tie: must not be taken for its box.
        (4, "A004", {"type": "Polygon", "coordinates": [[[7, 0], [8, 1], [8, 0], [7, 1], [7, 0]]]}),
        # A zero-area spike over a box's corners: not a rectangle either.
        (5, "A005", {"type": "Polygon", "coordinates": [[[9, 0], [10, 0], [10, 1], [10, 0], [9, 0]]]}),
        # A rotated square: its box is much bigger than the square.
        (6, "A006", {"type": "Polygon", "coordinates": [[[12, 0], [13, 1], [12, 2], [11, 1], [12, 0]]]}),
    ]
    rng = random.Random(2)
    pts = [(rng.uniform(-1, 14), rng.uniform(-1, 5)) for _ in range(5000)]
    pts += [(2, 2), (1, 1), (3, 3), (5.5, 2), (7.5, 0.2), (9.5, 0.5), (11.2, 0.3), (12, 1), (12, 0)]
    assert_agrees(items, pts)


def test_empty_index_and_points_outside_answer_none():
    assert GridIndex.build([]).locate(108.3, 22.8) is None
    idx = GridIndex.build([(1, "A001", tiling.rect(0.0, 0.0, 1.0, 1.0))])
    assert idx.locate(-0.5, 0.5) is None and idx.locate(0.5, -0.0001) is None and idx.locate(1.5, 0.5) is None
    assert idx.locate(0.0, 0.0) == 1 and idx.locate(1.0, 1.0) == 1
