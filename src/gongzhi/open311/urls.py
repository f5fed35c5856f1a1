"""Open311 GeoReport v2 routes, included under /open311/: discovery, then v2/ services, requests, tokens.

Every resource names its format by extension (.json or .xml), as the spec does; anything else under
/open311/ answers the spec's 404 error document.
"""

from django.urls import re_path

from . import views

app_name = "open311"

_FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + _FMT, views.discovery, name="discovery"),
    re_path(r"^v2/discovery" + _FMT, views.discovery),  # some clients look for it beside the endpoint
    re_path(r"^v2/services" + _FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + _FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + _FMT, views.requests, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[^/]+?)" + _FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + _FMT, views.token, name="token"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
