"""Notifications in the JSON API: my notifications (keyset on id), mark one or all read.

Only ever the caller's own: another user's notification id answers the same 404 as a missing one.
"""

from __future__ import annotations

from ninja import Router

from gongzhi.accounts.authentication import AUTH

from . import selectors, services

router = Router(tags=["notifications"])


def notification_out(n) -> dict:
    return {"id": n.id, "kind": n.kind, "kind_label": n.get_kind_display(), "title": n.shown_title, "body": n.shown_body,
            "link": n.link, "appeal_number": n.appeal_number or None, "target": n.target or None,
            "created_at": n.created_at.isoformat(), "read": n.read_at is not None,
            "read_at": n.read_at.isoformat() if n.read_at else None}


@router.get("/notifications", auth=AUTH, summary="My notifications, newest first, keyset-paginated on id")
def notification_list(request, unread: bool = False, before: int | None = None, limit: int = 20):
    rows, next_before = selectors.page_of(selectors.notifications_for(request.user, unread_only=unread),
                                          before=before, limit=limit)
    return {"items": [notification_out(n) for n in rows], "next_before": next_before,
            "unread": selectors.unread_count(request.user)}


@router.post("/notifications/read-all", auth=AUTH, summary="Mark all my notifications read")
def notification_read_all(request):
    marked = services.notification_mark_all_read(actor=request.user)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}


@router.post("/notifications/{notification_id}/read", auth=AUTH, summary="Mark one of my notifications read")
def notification_read(request, notification_id: int):
    return notification_out(services.notification_mark_read(actor=request.user, notification_id=notification_id))
