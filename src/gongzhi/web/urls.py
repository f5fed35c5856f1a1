from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.grid_map, name="map"),
    path("audit/", views.audit_log, name="audit"),
]
