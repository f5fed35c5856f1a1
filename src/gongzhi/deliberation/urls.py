from django.urls import include, path

from . import views, views_meetings, views_votes

app_name = "deliberation"

urlpatterns = [
    path("", views.committee_list, name="committees"),
    path("committees/<int:committee_id>/roster/<int:year>/", views.roster, name="roster"),
    path("committees/<int:committee_id>/roster/<int:year>/generate/", views.roster_generate, name="roster_generate"),
    path("committees/<int:committee_id>/roster/<int:year>/publish/", views.roster_publish, name="roster_publish"),
    path("committees/<int:committee_id>/roster/<int:year>/swaps/", views.swap_request, name="swap_request"),
    path("committees/<int:committee_id>/roster/<int:year>/swaps/<int:swap_id>/<str:action>/", views.swap_act,
         name="swap_act"),
    path("meetings/", views_meetings.meeting_list, name="meetings"),
    path("meetings/new/", views_meetings.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views_meetings.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/cancel/", views_meetings.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/<str:action>/", views_meetings.meeting_act, name="meeting_act"),
    path("sign-in/", views_meetings.sign_in, name="sign_in"),
    path("register/", include("gongzhi.deliberation.urls_register")),
    path("proposals/", views_votes.proposal_list, name="proposals"),
    path("proposals/new/", views_votes.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", views_votes.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/<str:action>/", views_votes.proposal_act, name="proposal_act"),
    path("actions/", views_meetings.action_list, name="actions"),
    path("actions/<int:pk>/done/", views_meetings.action_done, name="action_done"),
    path("series/new/", views_meetings.series_new, name="series_new"),
    path("series/<int:pk>/", views_meetings.series_detail, name="series"),
    path("series/<int:pk>/<str:action>/", views_meetings.series_act, name="series_act"),
    path("calendar/", views_meetings.calendar_page, name="calendar"),
    path("calendar/community/<int:place_id>.ics", views_meetings.feed_community, name="feed_community"),
    path("calendar/committee/<int:org_id>.ics", views_meetings.feed_committee, name="feed_committee"),
    path("calendar/me/<str:token>.ics", views_meetings.feed_personal, name="feed_personal"),
]
