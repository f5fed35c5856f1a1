"""The JSON API at /api/v1/: one NinjaAPI, routers per app, one error shape."""

import datetime as dt
import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyQuery, HttpBearer, django_auth

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

    now = timezone.now()
    stale = connection.ops.adapt_datetimefield_value(now - dt.timedelta(seconds=60))
    found = list(get_user_model().objects.raw(_token_sql(), [stale, ApiToken.hash_key(key)]))
    if not found:
        return None
    user = found[0]
    if user.token_stale:
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=now)
    request.user = user
    return user


@functools.cache
def _token_sql() -> str:
    """Every API request runs this lookup first, so it is plain SQL written once: the ORM spent more
    time building the query (a join of two models) than the database spent answering it."""
    from gongzhi.accounts.models import ApiToken

    qn = connection.ops.quote_name
    users, tokens = qn(get_user_model()._meta.db_table), qn(ApiToken._meta.db_table)
    used = f"t.{qn('last_used_at')}"
    return (f"SELECT u.*, t.{qn('id')} AS token_id, ({used} IS NULL OR {used} < %s) AS token_stale "
            f"FROM {tokens} t JOIN {users} u ON u.{qn('id')} = t.{qn('user_id')} "
            f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL AND u.{qn('is_active')} LIMIT 1")


AUTH = [BearerToken(), django_auth]


def anyone(request):
    """Last in a list of authenticators: public endpoints still learn who a token or session belongs to."""
    return request.user if request.user.is_authenticated else True


OPTIONAL_AUTH = [BearerToken(), django_auth, anyone]

api = NinjaAPI(
    title="Gongzhi 共治 API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(GongzhiError)
def on_gongzhi_error(request, exc: GongzhiError):
    return api.create_response(request, {"error": exc.as_dict()}, status=exc.status)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    from django.utils.translation import gettext as _

    return api.create_response(
        request, {"error": {"code": "unauthorized", "message": _("请先登录或提供有效的 API 令牌。")}}, status=401
    )


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
api.add_router("/", notifications_router)
api.add_router("/", "gongzhi.lists.api.router")
api.add_router("/", "gongzhi.lists.api_matching.router")
api.add_router("/", "gongzhi.volunteering.api.router")
api.add_router("/", "gongzhi.timebank.api.router")
