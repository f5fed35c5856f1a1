"""The KPI page (绩效统计): a scope and a period, the rate cards, a table per child node with a chart,
each number a link to the appeals behind it, and Excel ledgers of the table and of each list.

Thin: parse, call kpi, render. The numbers are plain HTML (the page works without JavaScript); the
ECharts chart is drawn from the same numbers when scripts run.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.exports import Column, xlsx_response

from . import kpi
from .api_kpi import require_kpi_viewer

# The columns of the table, in order: counts, then rates.
TABLE_COUNTS = ("submitted", "accepted", "resolved", "rated", "overdue", "bounces", "handed_on", "reopened")
DEPT_COUNTS = ("summoned", "reported", "wo_resolved", "returned", "wo_overdue", "wo_rated")
EXPORT_MAX = 20000


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _avg(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _fmt_rate(name, value) -> str:
    return _avg(value) if name in kpi.AVERAGES else _pct(value)


def _params(**kw) -> str:
    return urlencode({k: v for k, v in kw.items() if v not in (None, "")})


def _request_period(request):
    return kpi.parse_period(request.GET.get("start") or None, request.GET.get("end") or None)


def _list_url(code, start, end, metric, org=None) -> str:
    return reverse("appeals:kpi_list") + "?" + _params(scope=code, start=start, end=end, metric=metric, org=org)


def _cells(row, counts, code, start, end, org=None):
    return [{"name": c, "value": row[c], "url": _list_url(code, start, end, c, org)} for c in counts]


@login_required
def kpi_page(request):
    require_kpi_viewer(request.user)
    node = kpi.resolve_node(request.user, request.GET.get("scope", ""))
    start, end = _request_period(request)
    data = kpi.breakdown(request.user, node, start, end)
    s, e = data["start"], data["end"]
    is_org = node.kind == kpi.RollupKind.ORG
    counts = DEPT_COUNTS if is_org else TABLE_COUNTS
    rates = kpi.WO_RATES if is_org else kpi.APPEAL_RATES
    totals = data["totals"]
    cards = [{"name": r, "label": kpi.RATE_LABELS[r], "value": _fmt_rate(r, totals[r]),
              "definition": kpi.RATE_DEFINITIONS[r]} for r in rates]
    overdue_now = None
    if data["overdue_now"] is not None:
        from .selectors import can_use_board

        where = {"grid" if node.kind == kpi.RollupKind.GRID else "community": node.code}
        overdue_now = {"value": data["overdue_now"], "url": (reverse("appeals:board") + "?" + _params(
            section="overdue", **where)) if can_use_board(request.user) else ""}
    scopes = kpi.default_nodes(request.user)
    here = reverse("appeals:kpi")
    children = [{"row": c, "url": here + "?" + _params(scope=c["code"], start=s, end=e),
                 "cells": _cells(c, counts, c["code"], s, e),
                 "rates": [_fmt_rate(r, c[r]) for r in rates]} for c in data["children"]]
    departments = [{"row": d, "url": here + "?" + _params(scope=d["code"], start=s, end=e),
                    "cells": _cells(d, DEPT_COUNTS, node.code, s, e, org=d["code"]),
                    "rates": [_fmt_rate(r, d[r]) for r in kpi.WO_RATES]} for d in data["departments"]]
    chart = {
        "labels": [c["name"] for c in data["children"]],
        "series": [{"name": str(kpi.COUNTER_LABELS[c]), "type": "bar", "data": [row[c] for row in data["children"]]}
                   for c in counts[:3]],
        "rate": {"name": str(kpi.RATE_LABELS[rates[0]]),
                 "data": [None if row[rates[0]] is None else round(row[rates[0]] * 100, 1)
                          for row in data["children"]]},
    }
    return render(request, "appeals/kpi.html", {
        "node": node, "data": data, "start": s, "end": e, "cards": cards, "overdue_now": overdue_now,
        "total_cells": _cells(totals, counts, node.code, s, e), "total_rates": [_fmt_rate(r, totals[r]) for r in rates],
        "count_heads": [kpi.COUNTER_LABELS[c] for c in counts], "rate_heads": [kpi.RATE_LABELS[r] for r in rates],
        "dept_heads": [kpi.COUNTER_LABELS[c] for c in DEPT_COUNTS], "dept_rate_heads": [
            kpi.RATE_LABELS[r] for r in kpi.WO_RATES],
        "children": children, "departments": departments, "chart": chart,
        "scopes": scopes, "scopes_codes": [x.code for x in scopes],
        "export_url": reverse("appeals:kpi_export") + "?" + _params(scope=node.code, start=s, end=e),
        "definitions": [(kpi.RATE_LABELS[r], kpi.RATE_DEFINITIONS[r]) for r in kpi.APPEAL_RATES + kpi.WO_RATES],
    })


def _table_columns(counts, rates) -> list[Column]:
    cols = [Column(_("名称"), lambda r: r["name"], 24), Column(_("编码"), lambda r: r["code"], 20)]
    cols += [Column(str(kpi.COUNTER_LABELS[c]), (lambda r, c=c: r[c]), 10) for c in counts]
    cols += [Column(str(kpi.RATE_LABELS[r]), (lambda row, r=r: row[r]), 10) for r in rates]
    return cols


@login_required
def kpi_export(request):
    """The table as an Excel ledger: the scope's totals first, then each child and each department."""
    require_kpi_viewer(request.user)
    node = kpi.resolve_node(request.user, request.GET.get("scope", ""))
    start, end = _request_period(request)
    data = kpi.breakdown(request.user, node, start, end)
    rows = [{**data["totals"], **node.out(), "name": _("%(name)s（合计）") % {"name": node.name}}]
    rows += data["children"] + data["departments"]
    cols = _table_columns(kpi.COUNTERS, tuple(kpi.RATES) + tuple(kpi.AVERAGES))
    return xlsx_response(_("绩效统计") + f"-{node.name}-{start:%Y%m%d}-{end:%Y%m%d}", cols, rows)


def _behind_columns(with_orders: bool) -> list[Column]:
    local = timezone.localtime
    cols = [
        Column(_("诉求编号"), lambda r: r.appeal.number, 20),
        Column(_("标题"), lambda r: r.appeal.title, 30),
        Column(_("分类"), lambda r: r.appeal.category.label, 14),
        Column(_("状态"), lambda r: str(r.appeal.get_state_display()), 10),
        Column(_("社区"), lambda r: r.appeal.community.name, 14),
        Column(_("网格"), lambda r: r.appeal.grid.name, 18),
        Column(_("提交时间"), lambda r: local(r.appeal.submitted_at).strftime("%Y-%m-%d %H:%M"), 18),
        Column(_("计入时间"), lambda r: local(r.at).strftime("%Y-%m-%d %H:%M") if r.at else "", 18),
        Column(_("计数"), lambda r: r.count, 8),
    ]
    if with_orders:
        cols.insert(1, Column(_("承办单位"), lambda r: r.work_order.assignee.name if r.work_order else "", 24))
    return cols


def _list_args(request):
    node = kpi.resolve_node(request.user, request.GET.get("scope", ""))
    start, end = _request_period(request)
    metric = kpi.parse_metric(request.GET.get("metric", ""))
    return node, start, end, metric, request.GET.get("org") or None


@login_required
def kpi_list(request):
    require_kpi_viewer(request.user)
    node, start, end, metric, org = _list_args(request)
    rows, next_cursor = kpi.appeals_behind(request.user, node, start, end, metric, cursor=request.GET.get("cursor"),
                                           limit=50, org=org)
    s, e = start.isoformat(), end.isoformat()
    base = reverse("appeals:kpi_list") + "?" + _params(scope=node.code, start=s, end=e, metric=metric, org=org)
    return render(request, "appeals/kpi_list.html", {
        "node": node, "start": s, "end": e, "metric": metric, "metric_label": kpi.COUNTER_LABELS[metric],
        "rows": rows, "with_orders": metric in kpi.WO_COUNTERS,
        "next_url": f"{base}&cursor={next_cursor}" if next_cursor else "",
        "first_url": base if request.GET.get("cursor") else "",
        "export_url": reverse("appeals:kpi_list_export") + "?" + _params(scope=node.code, start=s, end=e,
                                                                          metric=metric, org=org),
        "back_url": reverse("appeals:kpi") + "?" + _params(scope=node.code, start=s, end=e),
    })


@login_required
def kpi_list_export(request):
    """Every row of one list (up to 20,000) as an Excel ledger."""
    require_kpi_viewer(request.user)
    node, start, end, metric, org = _list_args(request)
    rows, cursor = [], None
    while len(rows) < EXPORT_MAX:
        page, cursor = kpi.appeals_behind(request.user, node, start, end, metric, cursor=cursor, limit=1000, org=org)
        rows += page
        if not cursor:
            break
    title = f"{kpi.COUNTER_LABELS[metric]}-{node.name}-{start:%Y%m%d}-{end:%Y%m%d}"
    return xlsx_response(title, _behind_columns(metric in kpi.WO_COUNTERS), rows[:EXPORT_MAX])
