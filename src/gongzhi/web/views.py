"""Home, the grid map, the audit trail page and the health check."""

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from gongzhi.core import scopes


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
    """The audit trail and the personal-data access log, each filtered (actor, action, object, dates),
    paged, and exported to Excel as filtered (?export=audit or ?export=pii). Auditors only."""
    from django.utils.translation import gettext

    from gongzhi.core import exports
    from gongzhi.core.errors import ValidationFailed

    from . import audit_log as log

    scopes.require(request.user, "audit.view")
    error, status = "", 200
    try:
        f = log.parse_filters(request.GET)
        pf = log.parse_filters(request.GET, prefix="pii_")
    except ValidationFailed as exc:
        error, status = str(exc.message), 400
        f = pf = None
    export = request.GET.get("export")
    if export in ("audit", "pii"):
        if f is None:
            raise ValidationFailed("bad_filter", error)
        qs = log.audit_entries(f) if export == "audit" else log.pii_accesses(pf)
        log.check_export_size(qs)
        title = gettext("审计日志") if export == "audit" else gettext("个人信息查看记录")
        columns = log.audit_columns() if export == "audit" else log.pii_columns()
        return exports.xlsx_response(title, columns, qs.iterator(chunk_size=2000))
    if export:
        raise ValidationFailed("bad_export", gettext("导出类型只能是 audit 或 pii。"))
    entries = accesses = None
    if f is not None:
        entries = Paginator(log.audit_entries(f), log.PAGE_SIZE).get_page(request.GET.get("page"))
        accesses = Paginator(log.pii_accesses(pf), log.PAGE_SIZE).get_page(request.GET.get("pii_page"))
        for e in entries:
            e.label, e.who = log.action_label(e.action), log.user_display(e.actor, e.actor_name)
        for a in accesses:
            a.who = log.user_display(a.user)
    # Each section's form carries the other's filters along, so filtering one keeps the other as it was.
    names = ("actor", "action", "object_type", "object_id", "from", "to")
    keep_pii = [(f"pii_{n}", request.GET[f"pii_{n}"]) for n in names if request.GET.get(f"pii_{n}")]
    keep_audit = [(n, request.GET[n]) for n in names if request.GET.get(n)]
    ctx = {"entries": entries, "accesses": accesses, "error": error, "actions": log.action_choices(),
           "object_types": log.object_types(), "keep_pii": keep_pii, "keep_audit": keep_audit}
    return render(request, "web/audit.html", ctx, status=status)
