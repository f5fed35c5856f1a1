from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.org_tree, name="tree"),
    path("new/", views.org_create, name="org_create"),
    path("export.xlsx", views.org_export, name="org_export"),
    path("<int:pk>/", views.org_detail, name="detail"),
    path("units/", views.units, name="units"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/import/", views.units_import, name="units_import"),
    path("units/template.xlsx", views.units_template, name="units_template"),
    path("units/export.xlsx", views.units_export, name="units_export"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/import/", views.people_import, name="people_import"),
    path("people/template.xlsx", views.people_template, name="people_template"),
    path("people/export.xlsx", views.people_export, name="people_export"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/unmask/", views.person_unmask, name="person_unmask"),
    path("posts/", views.posts, name="posts"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/export.xlsx", views.posts_export, name="posts_export"),
]
