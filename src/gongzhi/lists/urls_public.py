"""Public pages of the three lists (no sign-in): the wish wall at /wishes/."""

from django.urls import path  # noqa: F401

app_name = "wishes"

urlpatterns: list = []
