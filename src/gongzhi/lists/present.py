"""How needs, projects and resources look in the JSON API (and to page templates): one shape each."""

from __future__ import annotations

from gongzhi.core import scopes

from . import permissions, selectors
from .workflow import NEED_ACTION_LABELS, PROJECT_ACTION_LABELS


def _place(p):
    return {"code": p.code, "name": p.name} if p is not None else None


def _date(d):
    return d.isoformat() if d else None


def need_out(actor, n, *, detail=False) -> dict:
    out = {
        "number": n.number, "kind": n.kind, "kind_label": n.get_kind_display(), "category": n.category,
        "skill": n.skill, "skill_label": n.get_skill_display(), "title": n.title, "description": n.description,
        "beneficiary": n.beneficiary, "beneficiaries_count": n.beneficiaries_count, "place": _place(n.place),
        "grid": {"code": n.grid.code, "name": n.grid.name} if n.grid_id else None, "lon": n.lon, "lat": n.lat,
        "urgency": n.urgency, "due_on": _date(n.due_on), "source": n.source, "source_ref": n.source_ref,
        "state": n.state, "state_label": n.get_state_display(), "version": n.version,
        "created_at": n.created_at.isoformat() if n.created_at else None, "rating": n.rating,
        "rating_comment": n.rating_comment, "mine": bool(actor and n.requester_id == getattr(actor, "pk", None)),
    }
    if detail:
        actions = permissions.need_actions(actor, n)
        out["allowed_actions"] = [{"action": a, "label": str(NEED_ACTION_LABELS[a])} for a in actions
                                  if a != "create"]
        project = selectors.need_project(n)
        out["project"] = project_out(actor, project) if project is not None else None
    return out


def taker_out(p) -> dict:
    obj = p.taker
    return {"kind": p.taker_kind, "id": getattr(obj, "pk", None), "name": selectors.taker_name(p)}


def project_out(actor, p, *, detail=False) -> dict:
    out = {
        "number": p.number, "title": p.title, "state": p.state, "state_label": p.get_state_display(), "via": p.via,
        "taker": taker_out(p), "resource": p.resource_id, "place": _place(p.place), "plan": p.plan,
        "starts_on": _date(p.starts_on), "ends_on": _date(p.ends_on), "budget": str(p.budget), "people": p.people,
        "beneficiaries_served": p.beneficiaries_served, "hours": str(p.hours), "summary": p.summary,
        "decline_reason": p.decline_reason, "version": p.version,
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "accepted_at": p.accepted_at.isoformat() if p.accepted_at else None,
        "done_at": p.done_at.isoformat() if p.done_at else None,
    }
    if detail:
        out["needs"] = [{"number": n.number, "title": n.title, "state": n.state, "rating": n.rating}
                        for n in p.needs.filter(links__live=True)]
        out["allowed_actions"] = [{"action": a, "label": str(PROJECT_ACTION_LABELS[a])}
                                  for a in permissions.project_actions(actor, p)]
        out["photos"] = [{"id": ph.id, "content_type": ph.content_type, "size": ph.size,
                          "url": f"/lists/projects/{p.number}/photos/{ph.id}"} for ph in p.photos.all()]
    return out


def resource_out(actor, r) -> dict:
    owner = r.owner
    return {
        "id": r.pk, "title": r.title, "kind": r.kind, "kind_label": r.get_kind_display(), "skill": r.skill,
        "skill_label": r.get_skill_display(), "description": r.description, "capacity": r.capacity,
        "availability": r.availability, "available_from": _date(r.available_from),
        "available_until": _date(r.available_until), "owner": {"kind": r.owner_kind, "id": owner.pk,
                                                                "name": str(owner)},
        "places": [_place(p) for p in r.places.all()], "grids": [{"code": g.code, "name": g.name}
                                                                 for g in r.grids.all()],
        "lon": r.lon, "lat": r.lat, "active": r.active, "version": r.version,
        "editable": permissions.can_edit_resource(actor, r),
    }


def can_read_unit_record(actor, org) -> bool:
    """List staff and readers in scope, and the unit's own liaison."""
    return permissions.speaks_for_org(actor, org) or scopes.can(actor, "lists.view", org)
