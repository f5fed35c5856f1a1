"""The JSON API at /api/v1/: one NinjaAPI, routers per app, one error shape."""

import datetime as dt
import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyQuery, HttpBearer, django_auth

from gongzhi.core.db import prepared_cursor
from gongzhi.core.errors import GongzhiError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return user_for_token(token, request)


class QueryKey(APIKeyQuery):
    param_name = "api_key"

    def authenticate(self, request: HttpRequest, key):
        return user_for_token(key, request) if key else None


def user_for_token(key: str, request: HttpRequest):
    """The active user an unrevoked token belongs to, or None; notes the token's use once a minute."""
    from gongzhi.accounts.models import ApiToken

    sql, attnames, converters = _token_lookup()
    now = timezone.now()
    stale = connection.ops.adapt_datetimefield_value(now - dt.timedelta(seconds=60))
    with prepared_cursor() as cur:
        cur.execute(sql, [stale, ApiToken.hash_key(key)])
        row = cur.fetchone()
    if row is None:
        return None
    *values, token_id, token_stale = row
    for i, col, funcs in converters:
        for convert in funcs:
            values[i] = convert(values[i], col, connection)
    user = get_user_model().from_db(connection.alias, attnames, values)
    if token_stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    request.user = user
    return user


@functools.cache
def _token_lookup() -> tuple[str, list[str], list]:
    """Every API request runs this lookup first, so it is plain SQL built once and planned once per
    connection (`prepared_cursor`), with the user made straight from its row (`from_db`): the ORM
    spent more time building the query (a join of two models) and mapping its columns than the
    database spent answering it. Returns the SQL, the user's attribute names in column order and,
    for each column that has them, the database's value converters (SQLite hands datetimes back as
    text)."""
    from django.db.models.expressions import Col

    from gongzhi.accounts.models import ApiToken

    User = get_user_model()
    qn = connection.ops.quote_name
    users, tokens = qn(User._meta.db_table), qn(ApiToken._meta.db_table)
    fields = list(User._meta.concrete_fields)
    used = f"t.{qn('last_used_at')}"
    sql = (f"SELECT {', '.join(f'u.{qn(f.column)}' for f in fields)}, t.{qn('id')}, "
           f"({used} IS NULL OR {used} < %s) "
           f"FROM {tokens} t JOIN {users} u ON u.{qn('id')} = t.{qn('user_id')} "
           f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL AND u.{qn('is_active')} LIMIT 1")
    converters = []
    for i, f in enumerate(fields):
        col = Col(User._meta.db_table, f)
        funcs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        if funcs:
            converters.append((i, col, funcs))
    return sql, [f.attname for f in fields], converters


AUTH = [BearerToken(), django_auth]


def anyone(request):
    """Last in a list of authenticators: public endpoints still learn who a token or session belongs to."""
    return request.user if request.user.is_authenticated else True


OPTIONAL_AUTH = [BearerToken(), django_auth, anyone]

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


api = GongzhiAPI(
    title="Gongzhi 共治 API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(GongzhiError)
def on_gongzhi_error(request, exc: GongzhiError):
    response = api.create_response(request, {"error": exc.as_dict()}, status=exc.status)
    if "retry_after" in exc.extra:  # a rate limit (429) says when to come back
        response["Retry-After"] = str(exc.extra["retry_after"])
    return response


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    from django.utils.translation import gettext as _

    return api.create_response(
        request, {"error": {"code": "unauthorized", "message": _("请先登录或提供有效的 API 令牌。")}}, status=401
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    """ninja's own refusals (a body that is not JSON, throttling) in the one error shape."""
    from django.utils.translation import gettext as _

    if exc.status_code == 400:
        error = {"code": "invalid_input", "message": _("请求内容无法解析，请发送有效的 JSON 或表单。")}
    else:
        error = {"code": "http_error", "message": str(exc)}
    return api.create_response(request, {"error": error}, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    from django.utils.translation import gettext as _

    return api.create_response(request, {"error": {"code": "not_found", "message": _("未找到。")}}, status=404)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    from django.utils.translation import gettext as _

    return api.create_response(
        request,
        {"error": {"code": "invalid_input", "message": _("输入有误，请检查后重试。"), "details": exc.errors}},
        status=400,
    )


from gongzhi.accounts.api import router as accounts_router  # noqa: E402
from gongzhi.appeals.api import router as appeals_router  # noqa: E402
from gongzhi.appeals.api_board import router as board_router  # noqa: E402
from gongzhi.notifications.api import router as notifications_router  # noqa: E402
from gongzhi.org.api import router as org_router  # noqa: E402
from gongzhi.places.api import router as places_router  # noqa: E402

api.add_router("/", places_router)
api.add_router("/", org_router)
api.add_router("/", accounts_router)
api.add_router("/", board_router)  # before appeals_router: /appeals/board is not an appeal number
api.add_router("/", appeals_router)
api.add_router("/", "gongzhi.appeals.api_kpi.router")
api.add_router("/", "gongzhi.appeals.api_public.router")
api.add_router("/", notifications_router)
api.add_router("/", "gongzhi.lists.api.router")
api.add_router("/", "gongzhi.lists.api_matching.router")
api.add_router("/", "gongzhi.volunteering.api.router")
api.add_router("/", "gongzhi.timebank.api.router")
api.add_router("/", "gongzhi.org.api_pick.router")

# Last: any other path under /api/v1/ answers the API's 404 (JSON), never Django's HTML page, and
# never a trailing-slash redirect (APPEND_SLASH only redirects paths that resolve nowhere).
_fallback = Router()


@_fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                         include_in_schema=False)
def no_such_endpoint(request, rest: str):
    from django.utils.translation import gettext as _

    from gongzhi.core.errors import NotFound

    raise NotFound("no_such_endpoint", _("没有这个 API 地址：%(path)s") % {"path": request.path})


api.add_router("/", _fallback)
