"""Grid import and export pages: upload a GeoJSON file, see the counts or every problem; download grids."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gongzhi.core import scopes

from . import geojson_io

# Enough to fix a file in a pass or two; the command line prints them all.
MAX_PROBLEMS_SHOWN = 1000


class GridImportForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON 文件"), error_messages={"required": _("请选择要导入的 GeoJSON 文件。")}
    )
    dry_run = forms.BooleanField(label=_("只检查，不写入"), required=False)


@login_required
def grid_import(request):
    scopes.require(request.user, "grid.import")
    result = None
    if request.method == "POST":
        form = GridImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = geojson_io.import_grids(
                upload.read(), actor=request.user, filename=upload.name, dry_run=form.cleaned_data["dry_run"]
            )
    else:
        form = GridImportForm()
    problems = result.problems[:MAX_PROBLEMS_SHOWN] if result else []
    return render(
        request,
        "places/grid_import.html",
        {
            "form": form,
            "result": result,
            "problems": problems,
            "problems_hidden": len(result.problems) - len(problems) if result else 0,
        },
    )


def grid_export(request):
    """Grid boundaries are public (as in the API); the file is sorted by code and byte-stable."""
    level = request.GET.get("level") or None
    within = request.GET.get("within") or None
    body = geojson_io.export_grids(level=level, within=within)
    name = "grids" + (f"-{within}" if within else "") + (f"-{level}" if level else "") + ".geojson"
    resp = HttpResponse(body.encode("utf-8"), content_type="application/geo+json; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
