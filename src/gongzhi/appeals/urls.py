from django.urls import path

from . import views, views_board, views_comments, views_entry, views_kpi, views_public

app_name = "appeals"

urlpatterns = [
    path("new/", views.appeal_new, name="new"),
    path("entry/", views_entry.appeal_entry, name="entry"),
    path("entry/<str:number>/reveal/", views_entry.appeal_entry_reveal, name="entry_reveal"),
    path("mine/", views.appeal_mine, name="mine"),
    path("inbox/", views.appeal_inbox, name="inbox"),
    path("board/", views_board.board, name="board"),
    path("board/hotspots/<int:hotspot_id>/<slug:action>/", views_board.hotspot_act, name="hotspot_act"),
    path("kpi/", views_kpi.kpi_page, name="kpi"),
    path("kpi/export/", views_kpi.kpi_export, name="kpi_export"),
    path("kpi/list/", views_kpi.kpi_list, name="kpi_list"),
    path("kpi/list/export/", views_kpi.kpi_list_export, name="kpi_list_export"),
    # The public pages (no sign-in), before "<number>/": "public" is not an appeal number.
    path("public/", views_public.public_list, name="public_list"),
    path("public/<str:number>/", views_public.public_detail, name="public_detail"),
    path("staged/<str:token>/", views.staged_photo, name="staged_photo"),
    path("workorders/", views.work_order_inbox, name="work_orders"),
    path("workorders/<int:work_order_id>/", views.work_order_detail, name="work_order"),
    path("workorders/<int:work_order_id>/<slug:action>/", views.work_order_act, name="work_order_act"),
    path("<str:number>/", views.appeal_detail, name="detail"),
    path("<str:number>/photos/<int:photo_id>/", views.appeal_photo, name="photo"),
    path("<str:number>/whistle/", views.appeal_whistle, name="whistle"),
    path("<str:number>/comments/", views_comments.appeal_comment, name="comment"),
    path("<str:number>/<slug:action>/", views.appeal_act, name="act"),
]
