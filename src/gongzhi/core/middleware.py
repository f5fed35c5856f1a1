"""Turn a GongzhiError escaping a page view into a page with its message and status, and a lost
database into a 503 the client may retry."""

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .errors import GongzhiError


class GongzhiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if isinstance(exc, GongzhiError):
            titles = {403: _("没有权限"), 404: _("未找到"), 409: _("操作冲突"), 429: _("操作过于频繁")}
            response = render(request, "web/error.html", {"title": titles.get(exc.status, _("输入有误")),
                                                          "message": exc.message}, status=exc.status)
            if "retry_after" in exc.extra:
                response["Retry-After"] = str(exc.extra["retry_after"])
            return response
        return None


RETRY_AFTER = "5"  # seconds: about what a PostgreSQL restart or failover takes


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After when the database cannot be reached, instead of a 500.

    While PostgreSQL restarts or fails over, the queries of a request fail with a connection error
    (core.transactions.is_unavailable says which errors those are). The client is told to come back
    in a moment: the API and Open311 in the API's error shape, people with a small page that needs
    no database (no context processors: navigation and the signed-in user would query it). Nothing
    to do afterwards: Django closes the failed connection when the request ends, and
    CONN_HEALTH_CHECKS makes the next request check a reused connection before trusting it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        from .transactions import is_unavailable

        if not is_unavailable(exc):
            return None
        return unavailable(request, exc)


def server_error(request):
    """handler500: a lost database met outside a view (a middleware saving the session, say) is a
    503 too; anything else is Django's plain 500 page."""
    import sys

    from django.views import defaults

    from .transactions import is_unavailable

    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        return unavailable(request, exc)
    return defaults.server_error(request)


def unavailable(request, exc) -> HttpResponse:
    """The 503 a client may retry: the API's error shape, Open311's error document, or a page."""
    logging.getLogger(__name__).warning("database unavailable on %s %s: %r", request.method, request.path, exc)
    message = _("系统暂时无法访问数据库，请稍后重试。")
    if request.path.startswith("/open311/"):
        response = _open311_error(request.path, 503, str(message))
    elif request.path.startswith("/api/"):
        response = JsonResponse({"error": {"code": "unavailable", "message": str(message)}}, status=503)
    else:
        html = render_to_string("web/unavailable.html", {"message": message, "path": request.get_full_path()})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = RETRY_AFTER
    response["Cache-Control"] = "no-store"
    return response


def _open311_error(path: str, status: int, description: str) -> HttpResponse:
    """GeoReport v2's error document (a list of {code, description}) in the format the path names
    (as open311.render does; core cannot import it: floors point down)."""
    if path.endswith(".xml"):
        from xml.sax.saxutils import escape

        body = (f'<?xml version="1.0" encoding="utf-8"?><errors><error><code>{status}</code>'
                f"<description>{escape(description)}</description></error></errors>")
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse([{"code": status, "description": description}], status=status, safe=False)
