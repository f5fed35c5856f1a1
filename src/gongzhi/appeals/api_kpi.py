"""Appeal KPIs in the JSON API: a node's totals, rates and children over a period, and the list
behind each number. Reads rollups only (kpi.py); the list replays the timelines it shows.

Thin: parse, call kpi, shape. Out-of-scope and missing nodes answer the same 404; a user with no
KPI role at all gets 403; bad dates, a reversed or over-long period and unknown metrics get 400.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from gongzhi.accounts.authentication import AUTH
from gongzhi.core.errors import PermissionDenied

from . import kpi

router = Router(tags=["kpis"])


def require_kpi_viewer(user) -> None:
    if not kpi.can_view_kpis(user):
        raise PermissionDenied("forbidden", _("您没有查看绩效统计的权限。"))


def behind_out(row: kpi.BehindRow) -> dict:
    a, wo = row.appeal, row.work_order
    return {
        "number": a.number, "title": a.title, "category": a.category.label, "state": a.state,
        "state_label": a.get_state_display(), "grid": a.grid.name, "community": a.community.name,
        "submitted_at": timezone.localtime(a.submitted_at).isoformat(),
        "at": timezone.localtime(row.at).isoformat() if row.at else None, "count": row.count,
        "work_order": ({"id": wo.pk, "organization": wo.assignee.name, "state": wo.state,
                        "state_label": wo.get_state_display()} if wo is not None else None),
    }


@router.get("/kpis/appeals", auth=AUTH,
            summary="KPIs of a place, grid or organisation over a period: totals, rates, children, departments")
def kpi_appeals(request, scope: str = "", start: str = "", end: str = ""):
    require_kpi_viewer(request.user)
    return kpi.breakdown(request.user, scope, start or None, end or None)


@router.get("/kpis/appeals/list", auth=AUTH,
            summary="The appeals (or work orders) counted in one KPI number, keyset-paginated")
def kpi_appeals_list(request, metric: str, scope: str = "", start: str = "", end: str = "", cursor: str = "",
                     limit: int = 50, org: str = ""):
    require_kpi_viewer(request.user)
    node = kpi.resolve_node(request.user, scope)
    s, e = kpi.parse_period(start or None, end or None)
    rows, next_cursor = kpi.appeals_behind(request.user, node, s, e, metric, cursor=cursor, limit=limit,
                                           org=org or None)
    return {"scope": node.out(), "start": s.isoformat(), "end": e.isoformat(), "metric": metric,
            "metric_label": str(kpi.COUNTER_LABELS[metric]), "items": [behind_out(r) for r in rows],
            "next_cursor": next_cursor}
