"""Every timeline event is written here, and what must follow it in the same transaction runs here.

KPI rollups (`kpi.on_event`) and the notification outbox (`notices.on_event`) share the event's
transaction: a transition that rolls back leaves no count and no message behind, and none is ever
missed, because services write events only through `record_event`.
"""

from __future__ import annotations

from gongzhi.notifications.services import collected

from . import kpi, notices
from .models import Appeal, AppealEvent


def record_event(appeal: Appeal, *, at, actor, action, from_state, to_state, note="", data=None,
                 changes=None, work_order=None, work_order_changes=None) -> AppealEvent:
    """Append one event to `appeal`'s timeline and apply its consequences.

    `appeal` is the row as it was read *before* this transition; `changes` are the appeal fields
    the transition wrote (owner, owner_level, deadlines …). For a work-order event, `work_order` is
    the work order as read before and `work_order_changes` the fields written to it.
    """
    event = AppealEvent.objects.create(appeal=appeal, at=at, actor=actor, action=action, from_state=from_state,
                                       to_state=to_state, note=note, data=data or {})
    context = {"changes": changes or {}, "work_order": work_order, "work_order_changes": work_order_changes or {}}
    kpi.on_event(appeal, event, **context)
    notices.on_event(appeal, event, **context)
    return event


def record_submits(items) -> list[AppealEvent]:
    """The submit event of each of many new appeals, with their consequences: one INSERT for the
    events, one rollup upsert, one INSERT for the notifications (a batch of intake, or one submit).

    `items` are (appeal, event fields) pairs; the fields are those of `record_event` (at, actor,
    action, from_state, to_state, data).
    """
    events = AppealEvent.objects.bulk_create([AppealEvent(appeal=appeal, note="", **fields) for appeal, fields in items])
    pairs = [(appeal, event) for (appeal, _fields), event in zip(items, events, strict=True)]
    kpi.on_events(pairs)
    with collected():
        for appeal, event in pairs:
            notices.on_event(appeal, event)
    return events
