"""The JSON API's frame: one NinjaAPI with one error shape for every refusal (a GongzhiError, a
validation error, no or a bad token, ninja's own 400s, a 404), documented once for every operation,
and a last router that answers any other path under /api/v1/ with the API's 404. The root
`gongzhi.api` builds it here and mounts the apps' routers on it.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError

from gongzhi.core.errors import GongzhiError, NotFound

# Every operation may answer with the one error shape (GongzhiError, validation, authentication,
# the input guard): documented once here for all of them instead of operation by operation.
ERROR_STATUSES = {
    "400": "Bad input: validation, a broken rule, refused characters, a malformed body",
    "401": "No valid session or API token",
    "403": "Not allowed for your roles or scope",
    "404": "Not found, or not in your scope",
    "405": "Method not allowed on this path",
    "409": "Conflict: stale version, wrong state, already taken",
    "429": "Too many requests: slow down",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "additionalProperties": True,
    }},
}


class GongzhiAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for item in schema["paths"].values():
            for method, op in item.items():
                if method not in ("get", "put", "post", "patch", "delete", "head", "options", "trace"):
                    continue
                responses = op.setdefault("responses", {})
                for code, description in ERROR_STATUSES.items():
                    responses.setdefault(code, {"description": description, **ref})
        return schema


def build_api(**kwargs) -> NinjaAPI:
    """The API with the error handlers registered; the caller mounts the routers (fallback_router last)."""
    api = GongzhiAPI(**kwargs)

    @api.exception_handler(GongzhiError)
    def on_gongzhi_error(request, exc: GongzhiError):
        response = api.create_response(request, {"error": exc.as_dict()}, status=exc.status)
        if "retry_after" in exc.extra:  # a rate limit (429) says when to come back
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request, exc):
        return api.create_response(
            request, {"error": {"code": "unauthorized", "message": _("请先登录或提供有效的 API 令牌。")}}, status=401
        )

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        """ninja's own refusals (a body that is not JSON, throttling) in the one error shape."""
        if exc.status_code == 400:
            error = {"code": "invalid_input", "message": _("请求内容无法解析，请发送有效的 JSON 或表单。")}
        else:
            error = {"code": "http_error", "message": str(exc)}
        return api.create_response(request, {"error": error}, status=exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return api.create_response(request, {"error": {"code": "not_found", "message": _("未找到。")}}, status=404)

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        return api.create_response(
            request,
            {"error": {"code": "invalid_input", "message": _("输入有误，请检查后重试。"), "details": exc.errors}},
            status=400,
        )

    return api


def fallback_router() -> Router:
    """Mounted last: any other path under /api/v1/ answers the API's 404 (JSON), never Django's HTML page,
    and never a trailing-slash redirect (APPEND_SLASH only redirects paths that resolve nowhere)."""
    router = Router()
    router.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                         include_in_schema=False)(no_such_endpoint)
    return router


def no_such_endpoint(request, rest: str):
    raise NotFound("no_such_endpoint", _("没有这个 API 地址：%(path)s") % {"path": request.path})
