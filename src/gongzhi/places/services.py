"""Writes to the place and grid trees: one function per use case, audited, in a transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gongzhi.core import audit, geo, scopes
from gongzhi.core.errors import NotFound, ValidationFailed

from .models import GRID_PARENT_LEVEL, PLACE_PARENT_KIND, Grid, GridLevel, Landmark, Place, PlaceKind


def place_create(*, actor, kind: str, code: str, name: str, parent: Place | None, lon=None, lat=None) -> Place:
    if kind not in PlaceKind.values:
        raise ValidationFailed("bad_kind", _("未知的地点类型：%(kind)s") % {"kind": kind})
    expected = PLACE_PARENT_KIND.get(kind)
    if expected and (parent is None or parent.kind != expected):
        raise ValidationFailed(
            "bad_parent",
            _("%(kind)s 的上级必须是%(parent)s。") % {"kind": PlaceKind(kind).label, "parent": PlaceKind(expected).label},
        )
    if not name.strip():
        raise ValidationFailed("name_required", _("名称不能为空。"))
    if Place.objects.filter(code=code).exists():
        raise ValidationFailed("duplicate_code", _("区划代码 %(code)s 已存在。") % {"code": code})
    if parent is not None:
        scopes.require(actor, "registry.edit", parent)
    else:
        scopes.require(actor, "grid.import")
    with transaction.atomic():
        place = Place.objects.create(kind=kind, code=code, name=name.strip(), parent=parent, lon=lon, lat=lat)
        audit.record(actor, "place.create", place, after={"code": code, "name": name, "kind": kind})
    return place


def next_grid_code(community: Place) -> str:
    """Issue the next grid code of a community: its 12-digit code + a 3-digit sequence.

    Locks the community row so two imports never issue the same code; the counter only grows,
    so a code once issued is never issued again, even after its grid is retired.
    """
    locked = Place.objects.select_for_update().get(pk=community.pk)
    while True:
        locked.grid_seq += 1
        if locked.grid_seq > 999:
            # The code is the 12-digit community code + 3 digits; a 16-digit code would break every
            # system that reads 15. A community with 999 grids needs splitting, not a longer code.
            raise ValidationFailed("grid_codes_exhausted", _("社区 %(code)s 的网格编码已用尽（最多 999 个）。") % {
                "code": locked.code})
        code = f"{locked.code}{locked.grid_seq:03d}"
        if not Grid.objects.filter(code=code).exists():
            break
    Place.objects.filter(pk=locked.pk).update(grid_seq=locked.grid_seq)
    return code


def bbox_of(geometry: dict) -> tuple[float, float, float, float]:
    return shape(geometry).bounds


def grid_create(*, actor, community: Place, level: str, name: str, geometry: dict, parent: Grid | None = None,
                code: str | None = None) -> Grid:
    """Create one grid (the import and the demo seeder use the bulk paths in geojson_io/demo)."""
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed("bad_community", _("网格必须属于一个社区。"))
    scopes.require(actor, "registry.edit", community)
    expected_parent = GRID_PARENT_LEVEL.get(level)
    if expected_parent and (parent is None or parent.level != expected_parent):
        raise ValidationFailed("bad_parent", _("%(level)s 的上级网格必须是%(parent)s。") % {
            "level": GridLevel(level).label, "parent": GridLevel(expected_parent).label})
    with transaction.atomic():
        if code is None:
            code = next_grid_code(community)
        elif Grid.objects.filter(code=code).exists():
            raise ValidationFailed("duplicate_code", _("网格编码 %(code)s 已存在。") % {"code": code})
        x0, y0, x1, y1 = bbox_of(geometry)
        grid = Grid.objects.create(code=code, name=name, level=level, community=community, parent=parent,
                                   geometry=geometry, min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1)
        geo.bump_version()
        audit.record(actor, "grid.create", grid, after={"code": code, "name": name, "level": level})
    return grid


def grid_locate(lon, lat) -> Grid:
    """The micro grid at a point, with its parents and places loaded. Public: boundaries are not PII."""
    x, y = geo.check_point(lon, lat)
    qs = Grid.objects.select_related("parent__parent", "community__parent__parent")
    for _attempt in range(2):
        gid = geo.micro_index().locate(x, y)
        grid = qs.filter(pk=gid, retired_at__isnull=True).first() if gid is not None else None
        if grid is not None or gid is None:
            break
        geo.invalidate()  # the index named a grid that is gone: rebuild once, never answer wrong
    if gid is None or grid is None:
        raise _outside_grids(x, y)
    return grid


def grid_id_at(lon, lat, *, max_age: float = 0.0) -> int:
    """The id of the micro grid at a point from the index alone, no row read (`max_age`: see
    geo.micro_index). For a first look that is checked again later; grid_locate is the answer."""
    x, y = geo.check_point(lon, lat)
    gid = geo.micro_index(max_age).locate(x, y)
    if gid is None:
        raise _outside_grids(x, y)
    return gid


def _outside_grids(x, y) -> NotFound:
    return NotFound("outside_grids", _("该位置（经度 %(lon)s，纬度 %(lat)s）不在任何网格内。") % {"lon": x, "lat": y})


def grid_chain(grid: Grid) -> list[dict]:
    """The grid's parents up to the district: area grid, community grid, community, street, district."""
    chain = []
    g = grid.parent
    while g is not None:
        chain.append({"kind": "grid", "level": g.level, "code": g.code, "name": g.name})
        g = g.parent
    p = grid.community
    while p is not None and p.kind != PlaceKind.CITY:
        chain.append({"kind": "place", "level": p.kind, "code": p.code, "name": p.name})
        p = p.parent if p.kind != PlaceKind.DISTRICT else None
    return chain


# ---- landmarks (the registry of named spots that place search finds) ----

LANDMARK_NAME_MAX, LANDMARK_NOTE_MAX = 100, 200
LANDMARK_EDIT = "registry.edit"


def _landmark_fields(*, name, community, lon, lat, note) -> dict:
    """Check a landmark's fields; every problem is a ValidationFailed naming its field."""
    name = (name or "").strip() if isinstance(name, str) or name is None else str(name)
    if not name:
        raise ValidationFailed("name_required", _("地标名称不能为空。"), {"field": "name"})
    if len(name) > LANDMARK_NAME_MAX:
        raise ValidationFailed("name_too_long", _("地标名称最多 %(max)d 个字。") % {"max": LANDMARK_NAME_MAX},
                               {"field": "name"})
    note = (note or "").strip() if isinstance(note, str) or note is None else str(note)
    if len(note) > LANDMARK_NOTE_MAX:
        raise ValidationFailed("note_too_long", _("备注最多 %(max)d 个字。") % {"max": LANDMARK_NOTE_MAX},
                               {"field": "note"})
    if not isinstance(community, Place) or community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed("bad_community", _("地标必须属于一个社区。"), {"field": "community"})
    if lon in (None, "") or lat in (None, ""):
        raise ValidationFailed("point_required", _("请在地图上点出地标的位置（或用地点搜索找到它）。"), {"field": "lon"})
    x, y = geo.check_point(lon, lat)
    # The point must lie in one of the community's grids: a landmark outside would mislead search.
    gid = geo.micro_index().locate(x, y)
    if gid is None or not Grid.objects.filter(pk=gid, community=community).exists():
        raise ValidationFailed("outside_community", _("该位置不在「%(c)s」的网格范围内，请在该社区内选点。") % {
            "c": community.name}, {"field": "lon"})
    return {"name": name, "community": community, "lon": round(x, 7), "lat": round(y, 7), "note": note}


def _landmark_state(lm: Landmark) -> dict:
    return {"name": lm.name, "community": lm.community.code, "lon": lm.lon, "lat": lm.lat, "note": lm.note}


def landmark_create(*, actor, name, community, lon, lat, note="") -> Landmark:
    fields = _landmark_fields(name=name, community=community, lon=lon, lat=lat, note=note)
    scopes.require(actor, LANDMARK_EDIT, community)
    with transaction.atomic():
        lm = Landmark(created_by=actor if getattr(actor, "pk", None) else None, **fields)
        lm.save()
        audit.record(actor, "landmark.create", lm, after=_landmark_state(lm))
    return lm


def landmark_update(*, actor, landmark: Landmark, **changes) -> Landmark:
    """Change the fields given (name, community, lon, lat, note); the actor must reach the landmark
    where it is and, if it moves to another community, there too."""
    scopes.require(actor, LANDMARK_EDIT, landmark)
    unknown = set(changes) - {"name", "community", "lon", "lat", "note"}
    if unknown:
        raise ValidationFailed("bad_field", _("不能修改这些字段：%(f)s") % {"f": "、".join(sorted(unknown))})
    current = {"name": landmark.name, "community": landmark.community, "lon": landmark.lon, "lat": landmark.lat,
               "note": landmark.note}
    fields = _landmark_fields(**{**current, **changes})
    if fields["community"].pk != landmark.community_id:
        scopes.require(actor, LANDMARK_EDIT, fields["community"])
    with transaction.atomic():
        before = _landmark_state(landmark)
        for key, value in fields.items():
            setattr(landmark, key, value)
        landmark.save()
        audit.record(actor, "landmark.update", landmark, before=before, after=_landmark_state(landmark))
    return landmark


def landmark_delete(*, actor, landmark: Landmark) -> None:
    scopes.require(actor, LANDMARK_EDIT, landmark)
    with transaction.atomic():
        before = _landmark_state(landmark)
        pk = landmark.pk
        landmark.delete()
        audit.record(actor, "landmark.delete", object_type="places.landmark", object_id=pk, before=before)


def landmark_get_for(actor, landmark_id) -> Landmark:
    """A landmark the actor may edit, or NotFound (no hint whether it exists elsewhere)."""
    raw = str(landmark_id or "")
    lm = (Landmark.objects.select_related("community").filter(pk=int(raw)).first()
          if raw.isdigit() and len(raw) <= 15 else None)
    if lm is None or not scopes.can(actor, LANDMARK_EDIT, lm):
        raise NotFound("no_landmark", _("地标不存在或不在您的管辖范围内。"))
    return lm


def community_for_edit(actor, community_id) -> Place:
    raw = str(community_id or "")
    c = (Place.objects.filter(pk=int(raw), kind=PlaceKind.COMMUNITY).first()
         if raw.isdigit() and len(raw) <= 15 else None)
    if c is None:
        raise ValidationFailed("bad_community", _("地标必须属于一个社区。"), {"field": "community"})
    return c
