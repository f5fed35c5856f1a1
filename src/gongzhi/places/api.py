"""Places and grids in the JSON API. Grid boundaries are public; staff are for people in scope."""

from django.http import HttpResponse, JsonResponse
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH, OPTIONAL_AUTH
from gongzhi.core import scopes

from . import geojson_io, selectors, services
from . import search as place_search
from .models import Landmark

router = Router(tags=["places"])


@router.get("/grids/locate", auth=None, summary="The micro grid at a point")
def locate(request, lon: str, lat: str):
    grid = services.grid_locate(lon, lat)
    return {
        "code": grid.code,
        "name": grid.name,
        "level": grid.level,
        "community": {"code": grid.community.code, "name": grid.community.name},
        "parents": services.grid_chain(grid),
    }


@router.get("/grids.geojson", auth=None, summary="Grid boundaries as a GeoJSON FeatureCollection")
def grids_geojson(request, level: str | None = None, within: str | None = None):
    # The same byte-stable text as the export, so what the map shows re-imports unchanged.
    return HttpResponse(geojson_io.export_grids(level=level, within=within), content_type="application/geo+json")


@router.get("/grids/{code}", auth=OPTIONAL_AUTH, summary="One grid: code, level, parents, staff (in scope) and member units")
def grid_detail(request, code: str):
    data = selectors.grid_card(request.user, code)
    return JsonResponse(data)


@router.get("/places", auth=None, summary="Children of a place (the whole tree from the top if no parent)")
def places(request, parent: str | None = None):
    return selectors.place_children(parent)


@router.get("/places/search", auth=OPTIONAL_AUTH,
            summary="Search communities, compounds, buildings and landmarks by name, full pinyin or initials")
def places_search(request, q: str = "", kind: str = "", community: str = "", limit: str = "", offset: str = ""):
    """Places are not personal data: anyone may search the city. `kind`: comma-separated subset of
    community, compound, building, landmark; `community`: a community's id; `limit` 1–50 (default 20),
    `offset` for the next page (`next` in the answer, null on the last page)."""
    return place_search.search_places(q=q, kinds=kind or None, community=community or None, limit=limit,
                                      offset=offset)


# ---- landmarks: staff of a community register the spots residents name ----

class LandmarkIn(Schema):
    name: str | None = None
    community: int | str | None = None
    lon: float | str | None = None
    lat: float | str | None = None
    note: str | None = None


def landmark_out(lm: Landmark) -> dict:
    return {"id": lm.pk, "name": lm.name, "community": {"id": lm.community_id, "name": lm.community.name},
            "lon": lm.lon, "lat": lm.lat, "note": lm.note,
            "created_by": lm.created_by.username if lm.created_by_id else None}


@router.get("/landmarks", auth=AUTH, summary="Landmarks in my scope (registry.view), optionally of one community")
def landmarks(request, community: str = "", limit: str = "", offset: str = ""):
    scopes.require(request.user, "registry.view")
    _kinds, place, limit, offset = place_search.check(community=community or None, limit=limit, offset=offset)
    qs = scopes.restrict(Landmark.objects.select_related("community", "created_by"), request.user, "registry.view")
    if place is not None:
        qs = qs.filter(community=place)
    rows = list(qs.order_by("name", "pk")[offset:offset + limit + 1])
    return {"results": [landmark_out(lm) for lm in rows[:limit]], "offset": offset, "limit": limit,
            "next": offset + limit if len(rows) > limit else None}


@router.post("/landmarks", auth=AUTH, response={201: dict}, summary="Register a landmark (registry.edit in its community)")
def landmark_create(request, body: LandmarkIn):
    lm = services.landmark_create(actor=request.user, name=body.name,
                                  community=services.community_for_edit(request.user, body.community),
                                  lon=body.lon, lat=body.lat, note=body.note or "")
    return Status(201, landmark_out(lm))


@router.patch("/landmarks/{landmark_id}", auth=AUTH, summary="Edit a landmark (only the fields sent)")
def landmark_update(request, landmark_id: str, body: LandmarkIn):
    lm = services.landmark_get_for(request.user, landmark_id)
    changes = body.model_dump(exclude_unset=True)
    if "community" in changes:
        changes["community"] = services.community_for_edit(request.user, changes["community"])
    lm = services.landmark_update(actor=request.user, landmark=lm, **changes)
    return landmark_out(lm)


@router.delete("/landmarks/{landmark_id}", auth=AUTH, response={204: None}, summary="Remove a landmark")
def landmark_delete(request, landmark_id: str):
    services.landmark_delete(actor=request.user, landmark=services.landmark_get_for(request.user, landmark_id))
    return Status(204, None)
