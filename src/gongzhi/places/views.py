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


# ---- landmarks: the spots residents name, registered by the staff of their community ----

class LandmarkForm(forms.Form):
    name = forms.CharField(label=_("地标名称"), max_length=100,
                           error_messages={"required": _("地标名称不能为空。")})
    community = forms.CharField(label=_("所属社区"), required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": _("如：东门，早 6 点开市")}))
    lon = forms.CharField(widget=forms.HiddenInput, required=False)
    lat = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from gongzhi.org.picker_widget import PickerSelect

        from .models import Place

        self.fields["community"].widget = PickerSelect("community", purpose="edit", model=Place)


# A service's refusal lands beside the field it names; the rest go on top of the form.
_LANDMARK_FIELD = {"lon": "lon", "lat": "lon", "name": "name", "note": "note", "community": "community"}


def _landmark_save(request, form, landmark=None):
    """Hand the form to the services; True when saved, else the refusal is on the form."""
    from gongzhi.core.errors import GongzhiError

    from . import services

    if not form.is_valid():
        return False
    d = form.cleaned_data
    try:
        community = services.community_for_edit(request.user, d["community"])
        if landmark is None:
            services.landmark_create(actor=request.user, name=d["name"], community=community,
                                     lon=d["lon"] or None, lat=d["lat"] or None, note=d["note"])
        else:
            services.landmark_update(actor=request.user, landmark=landmark, name=d["name"], community=community,
                                     lon=d["lon"] or None, lat=d["lat"] or None, note=d["note"])
    except GongzhiError as exc:
        field = _LANDMARK_FIELD.get((exc.extra or {}).get("field"))
        if field == "lon":
            field = None  # the point is chosen on the map: its message goes on top, by the map
        form.add_error(field, str(exc.message))
        return False
    return True


def _landmarks_page(request, form, *, editing=None, status=200):
    from django.core.paginator import Paginator

    from .models import Landmark

    qs = scopes.restrict(Landmark.objects.select_related("community", "created_by"), request.user, "registry.view")
    page = Paginator(qs.order_by("community__name", "name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "places/landmarks.html", {
        "form": form, "editing": editing, "page": page,
        "can_edit": scopes.can(request.user, "registry.edit"),
    }, status=status)


@login_required
def landmarks(request):
    from django.contrib import messages
    from django.shortcuts import redirect

    scopes.require(request.user, "registry.view")
    from .selectors import map_home

    home = map_home(request.user) if request.method != "POST" else None
    initial = {"community": home["community"]["id"]} if home and home["community"] else {}
    form = LandmarkForm(request.POST or None, initial=initial)
    if request.method == "POST":
        scopes.require(request.user, "registry.edit")
        if _landmark_save(request, form):
            messages.success(request, _("已登记地标「%(n)s」。") % {"n": form.cleaned_data["name"]})
            return redirect("places:landmarks")
        return _landmarks_page(request, form, status=400)
    return _landmarks_page(request, form)


@login_required
def landmark_edit(request, landmark_id: int):
    from django.contrib import messages
    from django.shortcuts import redirect

    from . import services

    landmark = services.landmark_get_for(request.user, landmark_id)
    initial = {"name": landmark.name, "community": landmark.community_id, "note": landmark.note,
               "lon": landmark.lon, "lat": landmark.lat}
    form = LandmarkForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if _landmark_save(request, form, landmark):
            messages.success(request, _("已保存地标「%(n)s」。") % {"n": form.cleaned_data["name"]})
            return redirect("places:landmarks")
        return _landmarks_page(request, form, editing=landmark, status=400)
    return _landmarks_page(request, form, editing=landmark)


@login_required
def landmark_delete(request, landmark_id: int):
    from django.contrib import messages
    from django.http import HttpResponseNotAllowed
    from django.shortcuts import redirect

    from . import services

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    landmark = services.landmark_get_for(request.user, landmark_id)
    name = landmark.name
    services.landmark_delete(actor=request.user, landmark=landmark)
    messages.success(request, _("已删除地标「%(n)s」。") % {"n": name})
    return redirect("places:landmarks")
