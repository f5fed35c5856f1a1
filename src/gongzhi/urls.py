"""Top-level routes: pages, the JSON API and the health check."""

from django.contrib import admin
from django.urls import include, path

from gongzhi.api import api
from gongzhi.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gongzhi.accounts.urls")),
    path("places/", include("gongzhi.places.urls")),
    path("org/", include("gongzhi.org.urls")),
    path("appeals/", include("gongzhi.appeals.urls")),
    path("notifications/", include("gongzhi.notifications.urls")),
    path("open311/", include("gongzhi.open311.urls")),
    path("lists/board/", include("gongzhi.lists.urls_matching")),
    path("lists/", include("gongzhi.lists.urls")),
    path("wishes/", include("gongzhi.lists.urls_public")),
    path("volunteering/", include("gongzhi.volunteering.urls")),
    path("timebank/", include("gongzhi.timebank.urls")),
    path("deliberation/", include("gongzhi.deliberation.urls")),
    path("", include("gongzhi.web.urls")),
]

handler500 = "gongzhi.core.middleware.server_error"  # a lost database is a 503 there too
