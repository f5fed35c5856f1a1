"""How an appeal reads to a given viewer: one shape for the API and the pages.

The rules that matter here are privacy rules: an anonymous reporter is hidden from everyone but
themselves (their timeline events read "匿名居民"); an assisted-entry reporter is shown masked;
user ids of staff are not exposed, only names.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import SUMMONS_OPEN_STATES, Level, Satisfaction, Source, State, SummonsState, Urgency
from .permissions import (
    VIEW_ROLES,
    allowed_actions,
    allowed_work_order_actions,
    reporter_visible,
    roles_covering,
)
from .workflow import (
    ACTION_LABELS,
    SUMMONS_ACTION_LABELS,
    SUMMONS_EVENT_LABELS,
    SUMMONS_EVENTS,
    SummonsAction,
)

# Event data that may be shown (the rest holds user ids for the system's own use).
SHOWN_DATA = ("reason", "redirect_to", "from_level", "to_level", "resolved", "satisfaction", "reopen", "into",
              "from", "source", "owner_level", "organizations", "organization", "work_order", "order_from",
              "order_to", "speed", "result", "deadlines", "callback")
EXTRA_EVENT_LABELS = {"photo": gettext_lazy("添加照片"), "merged_in": gettext_lazy("并入重复诉求"),
                      "comment": gettext_lazy("补充说明"),
                      **SUMMONS_EVENT_LABELS}
# The street's rating of a department is internal (reverse evaluation): staff see it, the reporter does not.
STAFF_ONLY_EVENTS = {SUMMONS_EVENTS[SummonsAction.RATE]}


def user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def anonymous_label() -> str:
    return _("匿名居民")


def reporter_out(viewer, appeal) -> dict | None:
    if not reporter_visible(viewer, appeal):
        return None
    if appeal.reporter_id is None:
        return {"name": appeal.reporter_name_masked, "phone": appeal.reporter_phone_masked, "assisted": True,
                "consent_recorded": appeal.consent_recorded}
    return {"name": user_name(appeal.reporter), "assisted": False}


def event_actor_name(viewer, appeal, event) -> str:
    if event.actor_id is None:
        return _("系统")
    if (appeal.anonymous and event.actor_id == appeal.reporter_id
            and not (viewer is not None and viewer.pk == appeal.reporter_id)):
        return anonymous_label()
    return user_name(event.actor)


def event_label(action: str) -> str:
    return str(ACTION_LABELS.get(action) or EXTRA_EVENT_LABELS.get(action) or action)


def _shown_data(data: dict) -> dict:
    out = {k: v for k, v in data.items() if k in SHOWN_DATA}
    for key in ("from_level", "to_level", "owner_level"):
        if out.get(key) in Level.values:
            out[key + "_label"] = str(Level(out[key]).label)
    if out.get("satisfaction") in Satisfaction.values:
        out["satisfaction_label"] = str(Satisfaction(out["satisfaction"]).label)
    for key in ("order_from", "order_to"):
        if out.get(key) in SummonsState.values:
            out[key + "_label"] = str(SummonsState(out[key]).label)
    return out


def sees_staff_events(viewer, appeal) -> bool:
    if viewer is None or getattr(viewer, "is_superuser", False):
        return True
    return bool(roles_covering(viewer, appeal) & VIEW_ROLES)


def visible_events(viewer, appeal, events) -> list:
    """The timeline as this viewer may read it (the street's ratings of departments are for staff)."""
    if sees_staff_events(viewer, appeal):
        return list(events)
    return [e for e in events if e.action not in STAFF_ONLY_EVENTS]


def event_out(viewer, appeal, event, photo_url) -> dict:
    return {
        "at": event.at.isoformat(),
        "action": event.action,
        "action_label": event_label(event.action),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event_actor_name(viewer, appeal, event),
        "note": event.note,
        "data": _shown_data(event.data or {}),
        "photos": [photo_url(appeal, p) for p in event.photos.all()],
    }


def merged_into_number(appeal) -> str | None:
    """The number of the appeal this one was merged into (selectors.with_related reads it along)."""
    if not appeal.merged_into_id:
        return None
    number = getattr(appeal, "merged_into_number", None)
    return number if number is not None else appeal.merged_into.number


def _iso(value):
    return value.isoformat() if value else None


def is_overdue(appeal, now=None) -> bool:
    """The board's rule (selectors.overdue_q), for one appeal."""
    from .selectors import is_overdue as rule

    return rule(appeal, now)


def appeal_out(viewer, appeal, *, photo_url, events=None, photos=None, work_orders=None) -> dict:
    out = {
        "number": appeal.number,
        "category": {"code": appeal.category.code, "name": appeal.category.name,
                     "label": appeal.category.label},
        "urgency": appeal.urgency,
        "urgency_label": str(Urgency(appeal.urgency).label),
        "title": appeal.title,
        "text": appeal.text,
        "lon": appeal.lon,
        "lat": appeal.lat,
        "grid": {"code": appeal.grid.code, "name": appeal.grid.name},
        "community": {"code": appeal.community.code, "name": appeal.community.name},
        "source": appeal.source,
        "source_label": str(Source(appeal.source).label),
        "anonymous": appeal.anonymous,
        "reporter": reporter_out(viewer, appeal),
        "state": appeal.state,
        "state_label": str(State(appeal.state).label),
        "version": appeal.version,
        "owner": {"name": user_name(appeal.owner)} if appeal.owner_id else None,
        "owner_level": appeal.owner_level,
        "owner_level_label": str(Level(appeal.owner_level).label),
        "submitted_at": _iso(appeal.submitted_at),
        "respond_due": _iso(appeal.respond_due),
        "resolve_due": _iso(appeal.resolve_due),
        "step_due": _iso(appeal.step_due),
        "overdue": is_overdue(appeal),
        "accepted_at": _iso(appeal.accepted_at),
        "resolved_at": _iso(appeal.resolved_at),
        "rated_at": _iso(appeal.rated_at),
        "closed_at": _iso(appeal.closed_at),
        "reopen_count": appeal.reopen_count,
        "bounce_count": appeal.bounce_count,
        "handon_count": appeal.handon_count,
        "merged_count": appeal.merged_count,
        "rating": None if appeal.satisfaction == "" else {
            "resolved": appeal.rating_resolved, "satisfaction": appeal.satisfaction,
            "satisfaction_label": str(Satisfaction(appeal.satisfaction).label), "comment": appeal.rating_comment},
        "reject_reason": appeal.reject_reason,
        "redirect_to": appeal.redirect_to,
        "merged_into": merged_into_number(appeal),
        "allowed_actions": allowed_actions(viewer, appeal),
    }
    if photos is not None:
        out["photos"] = [photo_url(appeal, p) for p in photos]
    if events is not None:
        out["timeline"] = [event_out(viewer, appeal, e, photo_url) for e in visible_events(viewer, appeal, events)]
    if work_orders is not None:
        staff = sees_staff_events(viewer, appeal)
        out["work_orders"] = [work_order_out(viewer, wo, photo_url=photo_url, photos=list(wo.photos.all()),
                                             with_appeal=False, with_rating=staff) for wo in work_orders]
    return out


def is_work_order_overdue(wo, now=None) -> bool:
    return wo.state in SUMMONS_OPEN_STATES and wo.step_due < (now or timezone.now())


def work_order_out(viewer, wo, *, photo_url, photos=None, with_appeal=True, with_rating=True) -> dict:
    """One work order as the viewer sees it: the organisation's share of an appeal."""
    out = {
        "id": wo.id,
        "appeal_number": wo.appeal.number,
        "organization": {"id": wo.assignee_id, "name": wo.assignee.name, "kind": wo.assignee.kind},
        "state": wo.state,
        "state_label": str(SummonsState(wo.state).label),
        "version": wo.version,
        "round": wo.round,
        "summoned_at": _iso(wo.summoned_at),
        "summoned_by": user_name(wo.whistle.blown_by),
        "whistle_note": wo.whistle.note,
        "report_due": _iso(wo.report_due),
        "resolve_due": _iso(wo.resolve_due),
        "step_due": _iso(wo.step_due),
        "overdue": is_work_order_overdue(wo),
        "reported_at": _iso(wo.reported_at),
        "resolved_at": _iso(wo.resolved_at),
        "result_note": wo.result_note,
        "closed_at": _iso(wo.closed_at),
        "reason": wo.reason,
        "allowed_actions": allowed_work_order_actions(viewer, wo),
    }
    if with_rating:
        out["rating"] = None if wo.rating_speed is None else {
            "speed": wo.rating_speed, "result": wo.rating_result, "comment": wo.rating_comment,
            "rated_at": _iso(wo.rated_at)}
    if photos is not None:
        out["photos"] = [photo_url(wo.appeal, p) for p in photos]
    if with_appeal:
        a = wo.appeal
        out["appeal"] = {
            "number": a.number, "title": a.title, "text": a.text,
            "category": {"code": a.category.code, "name": a.category.name, "label": a.category.label},
            "urgency": a.urgency, "urgency_label": str(Urgency(a.urgency).label),
            "state": a.state, "state_label": str(State(a.state).label),
            "grid": {"code": a.grid.code, "name": a.grid.name},
            "community": {"code": a.community.code, "name": a.community.name},
            "lon": a.lon, "lat": a.lat,
        }
    return out


def work_order_action_label(action: str) -> str:
    return str(SUMMONS_ACTION_LABELS.get(action, action))
