"""Places and grids in the JSON API. Grid boundaries are public; staff are for people in scope."""

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router

from gongzhi.api import OPTIONAL_AUTH
from gongzhi.core.errors import NotFound, ValidationFailed

from . import selectors, services
from .models import GridLevel

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
    if level is not None and level not in GridLevel.values:
        raise ValidationFailed(
            "bad_level", _("level 只能是 %(levels)s 之一。") % {"levels": ", ".join(GridLevel.values)}
        )
    if within:
        from .models import Place

        if not Place.objects.filter(code=within).exists():
            raise NotFound("no_place", _("区划代码 %(code)s 不存在。") % {"code": within})
    body = selectors.grids_feature_collection_json(level=level, within=within)
    return HttpResponse(body, content_type="application/geo+json")


@router.get("/grids/{code}", auth=OPTIONAL_AUTH, summary="One grid: code, level, parents, staff (in scope) and member units")
def grid_detail(request, code: str):
    data = selectors.grid_card(request.user, code)
    return JsonResponse(data)


@router.get("/places", auth=None, summary="Children of a place (the whole tree from the top if no parent)")
def places(request, parent: str | None = None):
    return selectors.place_children(parent)
