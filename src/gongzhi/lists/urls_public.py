"""Public pages of the three lists (no sign-in): the wish wall at /wishes/."""

from django.urls import path

from . import views

app_name = "wishes"

urlpatterns = [path("", views.wish_wall, name="wall")]
