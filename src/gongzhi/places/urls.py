from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("grids/import/", views.grid_import, name="grid_import"),
    path("grids/export.geojson", views.grid_export, name="grid_export"),
]
