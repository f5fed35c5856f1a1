"""Places and grids in the JSON API. Grid boundaries are public; staff are for people in scope."""

from django.http import HttpResponse, JsonResponse
from ninja import Router

from gongzhi.api import OPTIONAL_AUTH

from . import geojson_io, selectors, services

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
