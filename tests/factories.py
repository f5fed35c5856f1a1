"""Small builders for tests: a place tree, grids tiling a community, users with roles."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core import geo
from gongzhi.places.models import Grid, GridLevel, Place, PlaceKind

_seq = itertools.count(1)
PASSWORD = "test-pass-123"


def rect(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def place(kind, code, name, parent=None, **kw) -> Place:
    return Place.objects.create(kind=kind, code=code, name=name, parent=parent, **kw)


def place_tree():
    """南宁市 → 兴宁区 → 民生街道 → 北宁社区 and 兴宁社区. Returns a dict of them."""
    city = place(PlaceKind.CITY, "450100000000", "南宁市")
    district = place(PlaceKind.DISTRICT, "450102000000", "兴宁区", city)
    street = place(PlaceKind.STREET, "450102001000", "民生街道", district)
    beining = place(PlaceKind.COMMUNITY, "450102001004", "北宁社区", street, lon=108.33, lat=22.82)
    xingning = place(PlaceKind.COMMUNITY, "450102001003", "兴宁社区", street, lon=108.34, lat=22.82)
    return {"city": city, "district": district, "street": street, "beining": beining, "xingning": xingning}


def grid(community, level, x0, y0, x1, y1, parent=None, name=None) -> Grid:
    community.refresh_from_db()
    community.grid_seq += 1
    community.save(update_fields=["grid_seq"])
    code = f"{community.code}{community.grid_seq:03d}"
    g = Grid.objects.create(code=code, name=name or f"{community.name}{code[-3:]}", level=level,
                            community=community, parent=parent, geometry=rect(x0, y0, x1, y1),
                            min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1)
    geo.bump_version()
    return g


def grid_tree(community, x0, y0, size=0.01):
    """One community grid, two area grids side by side, two micro grids in each (a 2×2 tiling)."""
    top = grid(community, GridLevel.COMMUNITY, x0, y0, x0 + size, y0 + size)
    half = size / 2
    micros = []
    for i in range(2):
        area = grid(community, GridLevel.AREA, x0 + i * half, y0, x0 + (i + 1) * half, y0 + size, parent=top)
        for j in range(2):
            micros.append(grid(community, GridLevel.MICRO, x0 + i * half, y0 + j * half,
                               x0 + (i + 1) * half, y0 + (j + 1) * half, parent=area))
    return top, micros


def user(username=None, *roles, **kw):
    """user("wang", ("community_worker", place_obj), ...) — each role is (role, scope node)."""
    username = username or f"u{next(_seq)}"
    u = get_user_model().objects.create_user(username=username, password=PASSWORD, **kw)
    for role, node in roles:
        field = {"places.place": "place", "places.grid": "grid", "org.organization": "organization"}[
            node._meta.label_lower
        ]
        RoleAssignment.objects.create(user=u, role=role, **{field: node})
    return u
