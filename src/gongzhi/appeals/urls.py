from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("new/", views.appeal_new, name="new"),
    path("mine/", views.appeal_mine, name="mine"),
    path("inbox/", views.appeal_inbox, name="inbox"),
    path("workorders/", views.work_order_inbox, name="work_orders"),
    path("workorders/<int:work_order_id>/", views.work_order_detail, name="work_order"),
    path("workorders/<int:work_order_id>/<slug:action>/", views.work_order_act, name="work_order_act"),
    path("<str:number>/", views.appeal_detail, name="detail"),
    path("<str:number>/photos/<int:photo_id>/", views.appeal_photo, name="photo"),
    path("<str:number>/whistle/", views.appeal_whistle, name="whistle"),
    path("<str:number>/<slug:action>/", views.appeal_act, name="act"),
]
