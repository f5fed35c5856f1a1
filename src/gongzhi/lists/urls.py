"""Pages of the three lists at /lists/."""

from django.urls import path

from . import views

app_name = "lists"

urlpatterns = [
    path("", views.hub, name="hub"),
    path("needs/", views.need_list, name="needs"),
    path("needs/new/", views.need_new, name="need_new"),
    path("needs/<str:number>/", views.need_detail, name="need"),
    path("needs/<str:number>/edit/", views.need_edit, name="need_edit"),
    path("needs/<str:number>/<str:action>/", views.need_act, name="need_act"),
    path("resources/", views.resource_list, name="resources"),
    path("resources/new/", views.resource_new, name="resource_new"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<str:number>/", views.project_detail, name="project"),
    path("projects/<str:number>/photos/<int:photo_id>", views.project_photo, name="project_photo"),
    path("projects/<str:number>/<str:action>/", views.project_act, name="project_act"),
    path("orders/", views.my_orders, name="orders"),
    path("units/<int:org_id>/record/", views.unit_record, name="unit_record"),
]
