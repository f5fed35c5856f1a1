"""Grid import and export pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from gongzhi.core import scopes

from . import selectors


@login_required
def grid_import(request):
    scopes.require(request.user, "grid.import")
    return render(request, "places/grid_import.html", {})


def grid_export(request):
    body = selectors.grids_feature_collection_json(level=request.GET.get("level") or None,
                                                   within=request.GET.get("within") or None)
    resp = HttpResponse(body, content_type="application/geo+json")
    resp["Content-Disposition"] = 'attachment; filename="grids.geojson"'
    return resp
