"""Matching proposals in the JSON API: propose takers for a scope's open needs, confirm pairs into dispatches.

Thin: parse, call matching_service, shape with `proposal_out` (which the board page renders too).
Refusals come out through the GongzhiError handler as {"error": {"code", "message", …}}.
"""

from __future__ import annotations

from ninja import Router, Schema

from gongzhi.accounts.authentication import AUTH

from . import matching_service

router = Router(tags=["matching"])


def taker_out(resource) -> dict:
    return {"kind": resource.owner_kind, "id": resource.owner.pk, "name": matching_service.taker_display(resource)}


def resource_out(resource) -> dict:
    return {"id": resource.pk, "title": resource.title, "skill": resource.skill, "capacity": resource.capacity,
            "taker": taker_out(resource)}


def need_out(need) -> dict:
    return {"number": need.number, "title": need.title, "kind": need.kind, "skill": need.skill,
            "urgency": need.urgency, "due_on": need.due_on.isoformat(), "place": need.place.name,
            "version": need.version}


def proposal_out(proposal: matching_service.Proposal) -> dict:
    return {
        "place": {"id": proposal.place.pk, "code": proposal.place.code, "name": proposal.place.name},
        "pairs": [{
            "need": need_out(p.need),
            "resource": resource_out(p.resource),
            "taker": taker_out(p.resource),
            "cost": p.cost,
            "distance_m": p.distance_m,
            # Where each side's point came from (need_point, need_grid, need_place; resource_point,
            # resource_home, resource_area; null: no location) and the distance said in words.
            "distance_basis": {"need": p.basis[0], "resource": p.basis[1]},
            "distance_note": p.distance_note,
            "reason": p.reason,
            "alternatives": [{"resource": resource_out(c.resource), "cost": c.cost, "distance_m": c.distance_m,
                              "distance_note": c.distance_note} for c in p.alternatives],
        } for p in proposal.pairs],
        "unmatched": [{"need": need_out(u.need), "code": u.code, "reason": u.reason} for u in proposal.unmatched],
        "stats": proposal.stats,
    }


def results_out(results: list[matching_service.ConfirmResult]) -> dict:
    statuses = {"dispatched": 200, "conflict": 409}
    return {
        "results": [{"need_number": r.need_number, "resource_id": r.resource_id, "status": r.status,
                     "http_status": statuses.get(r.status, 400), "project": r.project_number or None,
                     "code": r.code or None, "message": r.message or None} for r in results],
        "dispatched": sum(r.status == "dispatched" for r in results),
        "conflicts": sum(r.status == "conflict" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
    }


class ProposalIn(Schema):
    place_id: int | None = None
    place_code: str = ""
    needs: list[str] | None = None


class PairIn(Schema):
    need_number: str
    resource_id: int
    version: int | None = None


class ConfirmIn(Schema):
    pairs: list[PairIn]


@router.post("/matching/proposals", auth=AUTH,
             summary="Propose a taker for each open need of a place (optimal min-cost assignment, with reasons)")
def matching_proposals(request, body: ProposalIn):
    place = matching_service.resolve_place(actor=request.user, place_id=body.place_id, place_code=body.place_code)
    proposal = matching_service.matching_propose(actor=request.user, place=place, need_numbers=body.needs)
    return proposal_out(proposal)


@router.post("/matching/confirm", auth=AUTH,
             summary="Dispatch confirmed pairs, each in its own transaction; conflicts are reported per pair")
def matching_confirm(request, body: ConfirmIn):
    results = matching_service.matching_confirm(actor=request.user, pairs=[p.dict() for p in body.pairs])
    return results_out(results)
