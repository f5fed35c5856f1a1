"""Staff tools for places and grids. Grid geometry and codes are read-only here: grids change
through the GeoJSON import, which checks overlaps and keeps the spatial index in step."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Grid, Place


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "depth")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    readonly_fields = ("path", "depth", "grid_seq")
    ordering = ("path",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A saved place's code, kind and parent are baked into its subtree's paths: not editable here.
        if obj is not None:
            return (*self.readonly_fields, "code", "kind", "parent")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "community", "retired_at")
    list_filter = ("level",)
    list_select_related = ("community",)
    search_fields = ("code", "name")
    fields = ("code", "name", "level", "community", "parent", "path", "place_path", "geometry_summary",
              "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "retired_at", "updated_at")
    readonly_fields = ("code", "level", "community", "parent", "path", "place_path", "geometry_summary",
                       "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "retired_at", "updated_at")
    ordering = ("code",)
    show_full_result_count = False

    @admin.display(description=_("边界"))
    def geometry_summary(self, obj):
        geom = obj.geometry or {}
        rings = geom.get("coordinates") or []
        if geom.get("type") == "MultiPolygon":
            points = sum(len(ring) for poly in rings for ring in poly)
        else:
            points = sum(len(ring) for ring in rings)
        return f"{geom.get('type', '?')} · {points} pts · [{obj.min_lon:.5f}, {obj.min_lat:.5f}, " \
               f"{obj.max_lon:.5f}, {obj.max_lat:.5f}]"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
