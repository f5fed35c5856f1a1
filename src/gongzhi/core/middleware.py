"""Turn a GongzhiError escaping a page view into a page with its message and status."""

from django.shortcuts import render
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
