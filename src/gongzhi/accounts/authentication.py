"""Who is calling the JSON API: a bearer token (or, for Open311, an `api_key` in the query) or the
session. Every app's router imports its `auth=` lists from here; the root `gongzhi.api` only mounts
the routers, so no app imports back from it (NetBox keeps `netbox/api/authentication.py` apart from
its router registry in the same way).
"""

import datetime as dt
import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyQuery, HttpBearer, django_auth

from gongzhi.core.db import prepared_cursor


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
