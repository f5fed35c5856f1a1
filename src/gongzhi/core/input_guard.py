"""One input-cleaning rule at the doors: text no database can store is refused before any view runs.

A NUL character (PostgreSQL refuses it in text, SQLite cuts the string at it), a lone UTF-16
surrogate such as "\\ud800" from a JSON escape (no UTF-8 encoding exists for it), or bytes that are
not UTF-8 in a JSON body: anywhere in the path, the query string, form fields or a JSON body, the
request is answered 400 with a clear message (the API's error shape under /api/, an error page for
people), and nothing is read or changed. A multipart body that cannot be parsed (no boundary, cut
off) is refused the same way instead of failing deep inside a view. A whole number in the query
string beyond what a 64-bit database column holds (an id, a page, a count) is refused too: no row can
match it, and SQLite cannot even bind it.
"""

from __future__ import annotations

import json
import re

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

# NUL, and any UTF-16 surrogate code point (lone: a valid pair is one code point in Python).
_BAD = re.compile("[\x00\ud800-\udfff]")

# A query value that is a whole number, and the 64-bit range every id, page and count lies in.
_INTEGER = re.compile(r"[+-]?\d{19,}")
DB_INT_MIN, DB_INT_MAX = -(2**63), 2**63 - 1

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"


def is_bad_text(value: str) -> bool:
    return bool(_BAD.search(value))


def _bad_in(obj) -> bool:
    """True if any string in a parsed JSON document (keys included) holds a refused character."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str):
            if _BAD.search(o):
                return True
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return False


def refused_input(request) -> str | None:
    """The reason this request's input is refused, or None if it is clean."""
    if _BAD.search(request.path):
        return "path"
    for key, values in request.GET.lists():
        if _BAD.search(key) or any(_BAD.search(v) for v in values):
            return "query"
        if any(_out_of_range(v) for v in values):
            return "number"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    ctype = request.content_type or ""
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            post = request.POST
            files = request.FILES
        except MultiPartParserError:
            return "multipart"
        for key, values in post.lists():
            if _BAD.search(key) or any(_BAD.search(v) for v in values):
                return "form"
        for key, uploads in files.lists():
            if _BAD.search(key) or any(_BAD.search(u.name or "") for u in uploads):
                return "form"
    else:
        # The API parses any body as JSON whatever its declared type, so every body that is JSON is
        # checked; one declared as JSON must also be UTF-8. Anything else is the view's business.
        body = request.body
        if not body:
            return None
        declared_json = ctype == "application/json" or ctype.endswith("+json")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "encoding" if declared_json else None
        try:
            doc = json.loads(text)
        except ValueError:
            return None  # not JSON at all: the API's own parser answers that (400)
        if _bad_in(doc):
            return "json"
    return None


def _out_of_range(value: str) -> bool:
    value = value.strip()
    return bool(_INTEGER.fullmatch(value)) and not (DB_INT_MIN <= int(value) <= DB_INT_MAX)


class InputGuardMiddleware:
    """Registered before everything that reads input (CSRF, views). See the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = refused_input(request)
        if where is not None:
            return refusal(request, where)
        return self.get_response(request)


def refusal(request, where: str):
    if where == "multipart":
        message = _("上传的表单格式有误（multipart 边界缺失或内容不完整），请重新提交。")
    elif where == "number":
        message = _("查询参数中的数字超出范围，请检查后重试。")
    else:
        message = _("输入中含有无法保存的字符（空字符、孤立代理项或非 UTF-8 编码），请删除后重试。")
    if request.path.startswith(OPEN311_PREFIX):  # the GeoReport error document, in the format asked for
        from gongzhi.open311 import render as open311_render

        fmt = "xml" if request.path.endswith(".xml") else open311_render.DEFAULT_FORMAT
        return open311_render.errors(fmt, 400, message)
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": {"code": "invalid_input", "message": message, "where": where}}, status=400)
    return render(request, "web/error.html", {"title": _("输入有误"), "message": message}, status=400)
