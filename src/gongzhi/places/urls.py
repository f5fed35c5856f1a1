from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("grids/import/", views.grid_import, name="grid_import"),
    path("grids/export.geojson", views.grid_export, name="grid_export"),
    path("landmarks/", views.landmarks, name="landmarks"),
    path("landmarks/<int:landmark_id>/", views.landmark_edit, name="landmark_edit"),
    path("landmarks/<int:landmark_id>/delete/", views.landmark_delete, name="landmark_delete"),
]
