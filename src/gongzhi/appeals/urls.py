from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("new/", views.appeal_new, name="new"),
    path("mine/", views.appeal_mine, name="mine"),
    path("inbox/", views.appeal_inbox, name="inbox"),
    path("<str:number>/", views.appeal_detail, name="detail"),
    path("<str:number>/photos/<int:photo_id>/", views.appeal_photo, name="photo"),
    path("<str:number>/<slug:action>/", views.appeal_act, name="act"),
]
