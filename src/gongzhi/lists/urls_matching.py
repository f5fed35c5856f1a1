"""The dispatch board with matching proposals at /lists/board/."""

from django.urls import path

from . import views_matching as views

app_name = "lists_board"

urlpatterns = [
    path("", views.board, name="board"),
    path("propose/", views.propose, name="propose"),
    path("confirm/", views.confirm, name="confirm"),
]
