from django.urls import path

from . import views

app_name = "volunteering"

urlpatterns = [
    path("activities/", views.activity_list, name="activities"),
    path("activities/new/", views.activity_new, name="activity_new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("activities/<int:pk>/signup/", views.activity_signup, name="signup"),
    path("activities/<int:pk>/signups/<int:signup_id>/cancel/", views.signup_cancel, name="signup_cancel"),
    path("activities/<int:pk>/signups/<int:signup_id>/check-<str:direction>/", views.attendance_mark,
         name="attendance_mark"),
    path("activities/<int:pk>/attendance.xlsx", views.activity_attendance_export, name="attendance_export"),
    path("activities/<int:pk>/qr.svg", views.activity_qr, name="qr"),
    path("activities/<int:pk>/<str:action>/", views.activity_act, name="activity_act"),
    path("checkin/", views.checkin, name="checkin"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/<str:action>/", views.team_act, name="team_act"),
    path("reports/", views.report_register, name="reports"),
    path("reports/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:pk>/<str:action>/", views.report_act, name="report_act"),
    path("records/<int:org_id>/", views.member_records, name="records"),
]
