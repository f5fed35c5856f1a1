"""Home, the grid map, the audit trail page and the health check."""

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from gongzhi.core import scopes
from gongzhi.core.models import AuditEntry, PiiAccess


def healthz(request):
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        db = {"ok": True, "vendor": connection.vendor}
        status = 200
    except Exception as exc:  # the health check must answer, whatever broke
        db = {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
        status = 503
    db["ms"] = round((time.perf_counter() - started) * 1000, 2)
    out = {"status": "ok" if status == 200 else "degraded", "database": db}
    if status == 200:
        from gongzhi.appeals.intake import backlog

        try:  # submits waiting for the worker: a growing backlog means the worker is down or too slow
            out["appeal_intake"] = backlog()
        except Exception as exc:  # e.g. not migrated yet: report, do not fail the check
            out["appeal_intake"] = {"error": exc.__class__.__name__}
    return JsonResponse(out, status=status)


def home(request):
    """Signed in: the user's desk (their work, counted and linked); otherwise what the platform is."""
    ctx = {}
    if request.user.is_authenticated:
        from .desk import desk_for

        ctx["desk"] = desk_for(request.user)
    return render(request, "web/home.html", ctx)


def grid_map(request):
    return render(request, "web/map.html", {"tile_url": settings.MAP_TILE_URL})


@login_required
def audit_log(request):
    scopes.require(request.user, "audit.view")
    entries = Paginator(AuditEntry.objects.select_related("actor").order_by("-id"), 50).get_page(request.GET.get("page"))
    accesses = PiiAccess.objects.select_related("user", "person").order_by("-id")[:50]
    return render(request, "web/audit.html", {"entries": entries, "accesses": accesses})
