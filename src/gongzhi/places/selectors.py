"""Reads of places and grids, each scoped to the actor where it shows anything personal."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import NotFound
from gongzhi.core.pii import mask_name

from .models import Grid, Place


def grids_qs(*, level: str | None = None, within: str | None = None):
    qs = Grid.objects.filter(retired_at__isnull=True)
    if level:
        qs = qs.filter(level=level)
    if within:
        place = Place.objects.filter(code=within).first()
        # An unknown place matches nothing: never fall back to every grid.
        qs = qs.filter(place_path__startswith=place.path) if place is not None else qs.none()
    return qs


def feature_of(code, name, level, parent_code, community_code, geometry) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent_code,
            "community_code": community_code,
        },
        "geometry": geometry,
    }


def grids_feature_collection(*, level=None, within=None) -> dict:
    rows = grids_qs(level=level, within=within).values_list(
        "code", "name", "level", "parent__code", "community__code", "geometry"
    ).order_by("code")
    return {"type": "FeatureCollection", "features": [feature_of(*r) for r in rows.iterator(chunk_size=2000)]}


def grids_feature_collection_json(*, level=None, within=None) -> str:
    return json.dumps(grids_feature_collection(level=level, within=within), ensure_ascii=False, separators=(",", ":"))


def grid_card(user, code: str) -> dict:
    """What the map shows on a click: the grid, its parents, staff (names for staff in scope) and units."""
    from gongzhi.org.models import GridUnit, Post

    from .services import grid_chain

    grid = Grid.objects.select_related("parent__parent", "community__parent__parent").filter(code=code).first()
    if grid is None:
        raise NotFound("no_grid", _("网格 %(code)s 不存在。") % {"code": code})
    in_scope = scopes.can(user, "registry.view", grid)
    staff = []
    for post in Post.objects.filter(grid=grid, ends_on__isnull=True).select_related("person").order_by("title", "id"):
        staff.append(
            {
                "title": post.title,
                "title_label": str(post.get_title_display()),
                "name": post.person.name if in_scope else mask_name(post.person.name),
                "phone": post.person.phone_masked if in_scope else "",
            }
        )
    units = [
        {"name": link.organization.name, "kind": link.organization.kind}
        for link in GridUnit.objects.filter(grid=grid).select_related("organization").order_by("organization__name")
    ]
    return {
        "code": grid.code,
        "name": grid.name,
        "level": grid.level,
        "level_label": str(grid.get_level_display()),
        "community": {"code": grid.community.code, "name": grid.community.name},
        "parents": grid_chain(grid),
        "staff": staff,
        "member_units": units,
        "in_scope": in_scope,
    }


def place_children(parent_code: str | None) -> list[dict]:
    if parent_code:
        parent = Place.objects.filter(code=parent_code).first()
        if parent is None:
            raise NotFound("no_place", _("区划代码 %(code)s 不存在。") % {"code": parent_code})
        qs = Place.objects.filter(parent=parent)
    else:
        qs = Place.objects.filter(parent__isnull=True)
    return [
        {"code": p.code, "name": p.name, "kind": p.kind, "lon": p.lon, "lat": p.lat}
        for p in qs.order_by("code")[:2000]
    ]


def _bbox(qs):
    from django.db.models import Max, Min

    b = qs.aggregate(w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat"))
    return [b["w"], b["s"], b["e"], b["n"]] if b["w"] is not None else None


def map_home(user) -> dict | None:
    """Where a map opens for this user: a resident's own community (their person's registered
    community), else the place or grid of their first role scope; None for nobody in particular.
    {"community": {"id", "code", "name"} or None, "name", "bbox": [w, s, e, n]}."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    live = Grid.objects.filter(retired_at__isnull=True)
    community = None
    for s in scopes.scopes_of(user):  # staff: their first role scope
            if s.kind == "grid":
                grid = live.filter(path=s.path).select_related("community").first()
                if grid is not None:
                    return {"community": _community_out(grid.community), "name": grid.name,
                            "bbox": _bbox(live.filter(path__startswith=s.path))}
            elif s.kind == "place":
                place = Place.objects.filter(path=s.path).first()
                if place is not None and place.kind != "community":
                    bbox = _bbox(live.filter(place_path__startswith=place.path, level="community"))
                    if bbox:
                        return {"community": None, "name": place.name, "bbox": bbox}
                community = place
            elif s.kind == "org":
                from gongzhi.org.models import Organization

                org = Organization.objects.filter(path=s.path).select_related("place").first()
                if org is not None and org.place_id:
                    community = org.place if org.place.kind == "community" else None
                    if community is None:
                        bbox = _bbox(live.filter(place_path__startswith=org.place.path, level="community"))
                        if bbox:
                            return {"community": None, "name": org.place.name, "bbox": bbox}
            if community is not None:
                break
    if community is None:  # a resident: their person's registered community
        person = getattr(user, "person", None)  # the reverse one-to-one raises AttributeError when unset
        community = person.registered_community if person is not None and person.registered_community_id else None
    if community is None:
        return None
    bbox = _bbox(live.filter(community=community, level="community")) or _bbox(live.filter(community=community))
    if bbox is None:
        return None
    return {"community": _community_out(community), "name": community.name, "bbox": bbox}


def _community_out(c: Place) -> dict:
    return {"id": c.pk, "code": c.code, "name": c.name}
