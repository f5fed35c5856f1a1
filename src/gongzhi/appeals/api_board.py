"""The dispatch board, duplicate suggestions and hotspot warnings (未诉先办) in the JSON API.

Thin, as appeals/api.py: parse, call a selector or a service in hotspots.py, shape the answer.
Registered in gongzhi/api.py before the appeals router, so that /appeals/board and
/appeals/{number}/duplicates are matched before /appeals/{number} and /appeals/{number}/{action}.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH
from gongzhi.core.errors import NotFound, PermissionDenied

from . import hotspots, present, selectors
from .api import api_photo_url
from .models import OPEN_STATES, HotspotState, State
from .permissions import allowed_actions, can_view
from .workflow import Action

router = Router(tags=["board"])


def _iso(value):
    return value.isoformat() if value else None


def hotspot_out(viewer, h, *, with_repeats: bool = True) -> dict:
    """One hotspot warning as a staff member sees it (only staff in scope see hotspots at all)."""
    out = {
        "id": h.id,
        "category": {"code": h.category.code, "name": h.category.name, "label": h.category.label},
        "grid": {"code": h.grid.code, "name": h.grid.name},
        "lon": h.lon,
        "lat": h.lat,
        "radius_m": h.radius_m,
        "window_days": h.window_days,
        "threshold": h.threshold,
        "appeal_count": h.appeal_count,
        "first_at": _iso(h.first_at),
        "last_at": _iso(h.last_at),
        "state": h.state,
        "state_label": str(HotspotState(h.state).label),
        "version": h.version,
        "proactive_appeal": h.proactive_appeal.number if h.proactive_appeal_id else None,
        "dismissed_reason": h.dismissed_reason,
        "handled_by": present.user_name(h.handled_by) if h.handled_by_id else None,
        "handled_at": _iso(h.handled_at),
        "allowed_actions": hotspots.allowed_actions(viewer, h),
    }
    if with_repeats:
        # A repeat in a neighbouring community is listed only to those who may read it.
        out["repeats"] = [{"number": a.number, "title": a.title, "state": a.state,
                           "state_label": str(State(a.state).label), "submitted_at": _iso(a.submitted_at),
                           "grid": a.grid.name} for a in h.appeals.all() if can_view(viewer, a)]
    return out


def _require_board(user):
    if not selectors.can_use_board(user):
        raise PermissionDenied("forbidden", _("调度台只对社区工作者和街道干部开放。"))


@router.get("/appeals/board", auth=AUTH,
            summary="Dispatch board: unassigned, overdue or awaiting-whistle appeals in my scope, due soonest first")
def board(request, section: str = "unassigned", scope: str = "", grid: str = "", category: str = "",
          after: str = "", limit: int = 50):
    _require_board(request.user)
    flt = selectors.board_filter(place_code=scope, grid_code=grid, category_code=category)
    qs = selectors.board_appeals(request.user, section, flt)
    rows, next_after = selectors.due_keyset_page(qs, after=after, limit=limit)
    return {"section": section, "counts": selectors.board_counts(request.user, flt),
            "items": [present.appeal_out(request.user, a, photo_url=api_photo_url) for a in rows],
            "next_after": next_after}


@router.get("/appeals/{number}/duplicates", auth=AUTH,
            summary="Likely duplicates of an appeal: same category, near, recent (those I may see)")
def duplicates(request, number: str, limit: int = 5):
    appeal = selectors.appeal_get_for(request.user, number)
    radius, days = selectors.duplicate_settings()
    limit = max(1, min(int(limit or 5), 20))
    target_open = appeal.state in OPEN_STATES
    return {
        "number": appeal.number, "radius_m": radius, "days": days,
        "items": [{
            "appeal": present.appeal_out(request.user, c.appeal, photo_url=api_photo_url),
            "distance_m": round(c.distance_m, 1),
            "hours_apart": round(c.hours_apart, 1),
            # Merging the candidate into this appeal ("合并到此"): POST /appeals/{candidate}/merge.
            "can_merge_here": target_open and Action.MERGE in allowed_actions(request.user, c.appeal),
        } for c in selectors.duplicate_candidates(request.user, appeal, limit=limit)],
    }


@router.get("/hotspots", auth=AUTH, summary="Hotspot warnings in my scope, newest first, keyset-paginated on id")
def hotspot_list(request, state: str = "open", scope: str = "", grid: str = "", category: str = "",
                 before: int | None = None, limit: int = 50):
    flt = selectors.board_filter(place_code=scope, grid_code=grid, category_code=category)
    qs = selectors.hotspots_with_repeats(selectors.hotspots_for(request.user, state or None, flt))
    rows, next_before = selectors.keyset_page(qs, before=before, limit=limit)
    return {"items": [hotspot_out(request.user, h) for h in rows], "next_before": next_before}


@router.get("/hotspots/{hotspot_id}", auth=AUTH, summary="One hotspot warning with its repeats")
def hotspot_detail(request, hotspot_id: int):
    return hotspot_out(request.user, selectors.hotspot_get_for(request.user, hotspot_id))


class ConvertIn(Schema):
    version: int
    title: str = ""
    text: str = ""


class DismissIn(Schema):
    version: int
    reason: str = ""


@router.post("/hotspots/{hotspot_id}/convert", auth=AUTH, response={201: dict},
             summary="Turn a hotspot into one proactive appeal (未诉先办) that its repeats link to (street officer)")
def hotspot_convert(request, hotspot_id: int, body: ConvertIn):
    h = hotspots.hotspot_convert(request.user, hotspot_id, body.title, body.text, version=body.version)
    appeal = selectors.appeal_get_for(request.user, h.proactive_appeal_id)
    detail = present.appeal_out(request.user, appeal, photo_url=api_photo_url, events=selectors.timeline(appeal),
                                photos=selectors.photos_of(appeal), work_orders=selectors.work_orders_of(appeal))
    detail["repeats"] = [a.number for a in selectors.repeats_of(request.user, appeal)]
    return Status(201, {"hotspot": hotspot_out(request.user, h), "appeal": detail})


@router.post("/hotspots/{hotspot_id}/dismiss", auth=AUTH, summary="Dismiss a hotspot warning with a reason (street officer)")
def hotspot_dismiss(request, hotspot_id: int, body: DismissIn):
    return hotspot_out(request.user, hotspots.hotspot_dismiss(request.user, hotspot_id, body.reason,
                                                              version=body.version))


@router.post("/hotspots/{hotspot_id}/{action}", auth=AUTH, include_in_schema=False)
def hotspot_unknown_action(request, hotspot_id: int, action: str):
    raise NotFound("unknown_action", _("未知的操作：%(a)s") % {"a": action}, {"actions": list(hotspots.HOTSPOT_SERVICES)})
