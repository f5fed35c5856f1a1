"""The project's URLs plus /bench/minimal: the framework's ceiling for bench/appeals.py.

/bench/minimal parses a small JSON body, does one INSERT into the table the bench creates
(bench_minimal) and returns JSON, through the same middleware as every other request. It exists
only under bench.bench_settings, never in gongzhi.urls.
"""

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gongzhi.urls import urlpatterns as project_urlpatterns

TABLE = "bench_minimal"


@csrf_exempt
@require_POST
def minimal(request):
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (at, note) VALUES (%s, %s) RETURNING id",
            [timezone.now(), str(body.get("text", ""))[:200]],
        )
        new_id = cur.fetchone()[0]
    return JsonResponse({"id": new_id}, status=201)


urlpatterns = [path("bench/minimal", minimal), *project_urlpatterns]
