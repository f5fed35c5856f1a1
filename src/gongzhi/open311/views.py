"""GeoReport v2 endpoints. Thin: read the format and the caller's api_key, call services, render.

Every refusal is the spec's error document (a list of {code, description}) in the format asked
for, with the HTTP status as its code: a bad api_key 403, an unknown service code, request or
token 404, a bad parameter or a missing location 400, an unsupported format 404.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.core.errors import GongzhiError

from . import render, selectors, services


def _unsupported_format(fmt: str):
    return render.errors(render.DEFAULT_FORMAT, 404, _("不支持的格式 .%(fmt)s：请使用 .json 或 .xml。") % {"fmt": fmt})


def _cors(resp, methods):
    # Browser-based 311 apps on other origins may read the API; no cookie ever authorises anything
    # here (only api_key does), so allowing any origin without credentials opens nothing.
    resp["Access-Control-Allow-Origin"] = "*"
    resp["Access-Control-Allow-Methods"] = ", ".join(methods)
    resp["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
    return resp


def endpoint(*methods):
    """Check the method and the format; turn a GongzhiError into the spec's error document."""

    def deco(view):
        @wraps(view)
        def wrapper(request, *args, fmt, **kwargs):
            if fmt not in render.FORMATS:
                return _cors(_unsupported_format(fmt), methods)
            if request.method == "OPTIONS":  # a browser's preflight (e.g. for an Idempotency-Key header)
                resp = HttpResponse(status=204)
                resp["Allow"] = ", ".join(methods)
                return _cors(resp, methods)
            if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
                resp = render.errors(fmt, 405, _("此地址不支持 %(method)s 请求。") % {"method": request.method})
                resp["Allow"] = ", ".join(methods)
                return _cors(resp, methods)
            try:
                services.refuse_nul(request.path, request.GET, request.POST)
                resp = view(request, fmt, *args, **kwargs)
            except GongzhiError as exc:
                resp = render.errors(fmt, exc.status, exc.message)
            if "api_key" in request.GET or "api_key" in request.POST:
                resp["Cache-Control"] = "private, no-store"  # what a key sees is for its holder only
            return _cors(resp, methods)

        return wrapper

    return deco


def _caller(request):
    """The user behind an api_key, if one is given (GET: optional; a bad one is refused, not ignored)."""
    key = request.POST.get("api_key") if request.method == "POST" else None
    key = key or request.GET.get("api_key")
    return services.actor_for_key(key, request) if key else None


def _v2_base(request) -> str:
    services_url = reverse("open311:services", kwargs={"fmt": "json"})
    return request.build_absolute_uri(services_url.rsplit("/", 1)[0])


def _media_url(request):
    def build(appeal, photo):
        # The photo is served only through the appeals photo route, which checks who may see it.
        return request.build_absolute_uri(reverse("appeals:photo", args=[appeal.number, photo.id]))

    return build


@endpoint("GET")
def discovery(request, fmt):
    doc = {
        "changeset": services.CHANGESET,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or _("请联系本区共治平台的管理员。"),
        "key_service": _("提交诉求（POST requests）需要 api_key：由平台管理员用 `gongzhi create_token 用户名` "
                         "或“API 令牌”页面签发。查询无需 api_key；职能范围内的工作人员带 api_key 查询可看到诉求的精确位置，"
                         "其他人看到的是所在微网格的中心点。"),
        "endpoints": [{
            "specification": services.SPECIFICATION,
            "url": _v2_base(request),
            "changeset": services.CHANGESET,
            "type": "production",
            "formats": services.FORMATS,
        }],
        # Not in the spec (clients ignore what they do not know): the limits of GET requests.
        "limits": {
            "requests_default_days": services.DEFAULT_DAYS,
            "requests_max_span_days": services.MAX_SPAN_DAYS,
            "requests_max_results": services.MAX_RESULTS,
            "service_request_ids_max": services.MAX_IDS,
        },
        "notes": [
            _("GET requests：不带日期时返回最近 %(days)d 天的诉求；start_date 到 end_date 最长 %(days)d 天；"
              "每次最多 %(max)d 条，按提交时间从新到旧；service_request_id 优先于其他条件。") % {
                "days": services.DEFAULT_DAYS, "max": services.MAX_RESULTS},
            _("status 为 open 或 closed：已办结、已评价、已结案、不予受理、已合并为 closed，其余为 open；"
              "status_notes 写明更细的状态。"),
            _("POST requests：新建返回 201，带同一 Idempotency-Key 头的重试返回 200 和同一诉求；"
              "只支持 lat/long 定位；不保存姓名、电话、邮箱；不抓取 media_url，可用 multipart 字段 media 上传照片。"),
            _("本接口只有一个辖区：jurisdiction_id 不必提供，提供了也不影响结果。"),
            _("任何输出都不含反映人身份（姓名、电话、账号）。"),
        ],
    }
    return render.respond(fmt, "discovery", doc)


@endpoint("GET")
def service_list(request, fmt):
    return render.respond(fmt, "services", [services.service_out(c) for c in services.active_categories()])


@endpoint("GET")
def service_definition(request, fmt, code):
    return render.respond(fmt, "service_definition", services.service_definition_out(services.service_get(code)))


def _requests_out(request, appeals, actor):
    media = _media_url(request)
    exact = services.exact_point_ids(actor, appeals)
    return [services.request_out(a, exact=a.pk in exact, media_url=media) for a in appeals]


@csrf_exempt  # authenticated by api_key, never by a cookie
@endpoint("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        actor = _caller(request)
        posted = services.request_post(actor=actor, form=request.POST, files=request.FILES,
                                       idempotency_key=request.headers.get("Idempotency-Key"))
        return render.respond(fmt, "service_requests", [services.posted_out(posted)],
                              status=201 if posted.created else 200)
    actor = _caller(request)
    filters = services.parse_filters(request.GET)
    return render.respond(fmt, "service_requests",
                          _requests_out(request, selectors.requests_matching(filters), actor))


@endpoint("GET")
def request_detail(request, fmt, request_id):
    actor = _caller(request)
    appeal = selectors.request_get(request_id)
    return render.respond(fmt, "service_requests", _requests_out(request, [appeal], actor))


@endpoint("GET")
def token(request, fmt, token):
    return render.respond(fmt, "service_requests", [services.token_get(token)])


@csrf_exempt
def not_found(request, rest=""):
    fmt = "xml" if rest.lower().endswith(".xml") else render.DEFAULT_FORMAT
    return render.errors(fmt, 404, _("没有这个 Open311 地址：%(path)s。可用的地址见 discovery.json。") % {
        "path": request.path})
