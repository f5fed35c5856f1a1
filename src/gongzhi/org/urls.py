from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.org_tree, name="tree"),
    path("units/", views.units, name="units"),
    path("people/", views.people, name="people"),
    path("posts/", views.posts, name="posts"),
]
