"""The dispatch board with matching proposals at /lists/board/."""

from django.urls import path  # noqa: F401

app_name = "lists_board"

urlpatterns: list = []
