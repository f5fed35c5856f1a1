"""The project's URLs plus /bench/minimal: the framework's ceiling for bench/appeals.py.

/bench/minimal parses a small JSON body, does one INSERT into the table the bench creates
(bench_minimal) and returns JSON, through the same middleware as every other request. The ratio
targets are against it. /bench/api/minimal does the same through django-ninja with the API's token
check (AUTH): not a target, it shows how much of a submit is the API framework and the token
check rather than the appeal. GET /bench/api/whoami is the cheapest authenticated GET (bench/load.py's
baseline): the API's token check, then one tiny query (the user's id and username by primary key), as
JSON. All exist only under bench.bench_settings, never in gongzhi.urls.
"""

import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from ninja import NinjaAPI, Schema

from gongzhi.accounts.authentication import AUTH
from gongzhi.urls import urlpatterns as project_urlpatterns

TABLE = "bench_minimal"


@csrf_exempt
@require_POST
def minimal(request):
    body = json.loads(request.body or b"{}")
    return JsonResponse({"id": _insert(str(body.get("text", "")))}, status=201)


def _insert(text: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} (at, note) VALUES (%s, %s) RETURNING id", [timezone.now(), text[:200]])
        return cur.fetchone()[0]


bench_api = NinjaAPI(urls_namespace="bench_api", docs_url=None)


class MinimalIn(Schema):
    text: str = ""


@bench_api.post("/minimal", auth=AUTH, response={201: dict})
def api_minimal(request, body: MinimalIn):
    return 201, {"id": _insert(body.text)}


@bench_api.get("/whoami", auth=AUTH, response=dict)
def api_whoami(request):
    with connection.cursor() as cur:
        table = connection.ops.quote_name(get_user_model()._meta.db_table)
        cur.execute(f"SELECT id, username FROM {table} WHERE id = %s", [request.user.pk])
        uid, username = cur.fetchone()
    return {"id": uid, "username": username}


urlpatterns = [path("bench/minimal", minimal), path("bench/api/", bench_api.urls), *project_urlpatterns]
