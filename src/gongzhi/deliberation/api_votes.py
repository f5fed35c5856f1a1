"""Proposals and votes (民议民决) in the JSON API at /api/v1/: the same services and rules as the pages."""

from __future__ import annotations

from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import bounds, scopes

from . import services
from .models import Proposal, ProposalState

router = Router(tags=["deliberation"])


def _t(value):
    return timezone.localtime(value).isoformat() if value else None


def proposal_out(request, p, *, detail=False) -> dict:
    out = {"id": p.id, "place_id": p.place_id, "title": p.title, "body": p.body, "electorate": p.electorate,
           "matter": p.matter, "threshold": f"{p.threshold_num}/{p.threshold_den}",
           "threshold_inclusive": p.threshold_inclusive, "secret": p.secret, "allow_change": p.allow_change,
           "discussion_until": _t(p.discussion_until), "opens_at": _t(p.opens_at), "closes_at": _t(p.closes_at),
           "state": p.state, "phase": services.phase(p), "passed": p.passed, "published_at": _t(p.published_at),
           "result": p.result, "agenda_item_id": p.agenda_item_id, "version": p.version}
    if detail:
        manage = scopes.can(request.user, services.MANAGE, p)
        out["comments"] = [{"id": c.id, "author": c.author_name, "text": "" if c.hidden else c.text,
                            "hidden": c.hidden, "hidden_reason": c.hidden_reason, "at": _t(c.created_at)}
                           for c in p.comments.all()]
        mine = services.my_ballot(request.user, p)
        out["my_ballot"] = ({"way": mine.way, "choice": mine.choice or None, "at": _t(mine.cast_at)} if mine else None)
        out["voted"] = p.roll.count()
        out["recounts"] = [{"at": _t(r.at), "reason": r.reason, "passed": r.passed, "result": r.result}
                           for r in p.recounts.all()] if manage or p.state == ProposalState.DECIDED else []
    return out


@router.get("/deliberation/proposals", auth=AUTH, summary="Proposals of a place (its compounds included)")
def proposal_list(request, place_id: int | None = None, page: int = 1, limit: int = 50):
    page, limit = bounds.page_window(page, limit)
    qs = Proposal.objects.all()
    if place_id is not None:
        from gongzhi.places.models import Place

        place = Place.objects.filter(pk=place_id).first() if bounds.db_ids([place_id]) else None
        qs = qs.filter(place_path__startswith=place.path) if place else qs.none()
    rows = list(qs.order_by("-created_at", "-id")[(page - 1) * limit: page * limit + 1])
    return {"items": [proposal_out(request, p) for p in rows[:limit]], "page": page, "has_next": len(rows) > limit}


class ProposalIn(Schema):
    place_id: int
    title: str = ""
    body: str = ""
    electorate: str  # owners | residents
    matter: str = ""  # owners: ordinary | major
    discussion_until: str
    opens_at: str
    closes_at: str
    secret: bool = False
    allow_change: bool = False
    threshold: str = "1/2"  # residents: the share of those voting that must say yes
    threshold_inclusive: bool = False
    agenda_item_id: int | None = None


@router.post("/deliberation/proposals", auth=AUTH, response={201: dict},
             summary="Put a proposal up for discussion and a vote (a resident of the place, or its staff)")
def proposal_create(request, body: ProposalIn):
    num, _sep, den = body.threshold.partition("/")
    p = services.proposal_create(actor=request.user, place=body.place_id, title=body.title, body=body.body,
                                 electorate=body.electorate, matter=body.matter,
                                 discussion_until=body.discussion_until, opens_at=body.opens_at,
                                 closes_at=body.closes_at, secret=body.secret, allow_change=body.allow_change,
                                 threshold=(num, den), threshold_inclusive=body.threshold_inclusive,
                                 agenda_item=body.agenda_item_id)
    return Status(201, proposal_out(request, p))


@router.get("/deliberation/proposals/{proposal_id}", auth=AUTH,
            summary="One proposal: discussion, my ballot, and after the close the published tally with its rule")
def proposal_get(request, proposal_id: int):
    return proposal_out(request, services.proposal_of(proposal_id), detail=True)


class CommentIn(Schema):
    text: str


@router.post("/deliberation/proposals/{proposal_id}/comments", auth=AUTH, response={201: dict},
             summary="Comment during the discussion (residents of the place, staff)")
def comment_add(request, proposal_id: int, body: CommentIn):
    c = services.comment_add(actor=request.user, proposal=proposal_id, text=body.text)
    return Status(201, {"id": c.id, "author": c.author_name, "text": c.text})


class HideIn(Schema):
    reason: str


@router.post("/deliberation/comments/{comment_id}/hide", auth=AUTH, summary="Hide a comment with a reason (moderation)")
def comment_hide(request, comment_id: int, body: HideIn):
    c = services.comment_hide(actor=request.user, comment=comment_id, reason=body.reason)
    return {"id": c.id, "hidden": c.hidden, "hidden_reason": c.hidden_reason}


class BallotIn(Schema):
    choice: str  # yes | no | abstain


@router.post("/deliberation/proposals/{proposal_id}/ballot", auth=AUTH, response={201: dict},
             summary="Vote online (an owner of the register, or a resident): one ballot per voter")
def ballot_cast(request, proposal_id: int, body: BallotIn):
    row = services.ballot_cast(actor=request.user, proposal=proposal_id, choice=body.choice)
    return Status(201, {"way": row.way, "at": _t(row.cast_at)})


@router.post("/deliberation/proposals/{proposal_id}/paper", auth=AUTH, response={201: dict},
             summary="Enter a paper ballot with the sheet's photo (staff); multipart: voter_key, choice, photo")
def ballot_paper(request, proposal_id: int, voter_key: Form[str], choice: Form[str], photo: File[UploadedFile]):
    row = services.ballot_paper(actor=request.user, proposal=proposal_id, voter_key=voter_key, choice=choice,
                                photo=photo)
    return Status(201, {"voter": row.voter_name, "way": row.way, "at": _t(row.cast_at)})


class RecountIn(Schema):
    reason: str


@router.post("/deliberation/proposals/{proposal_id}/recount", auth=AUTH, response={201: dict},
             summary="An audited recount after publication (the published result stays)")
def recount(request, proposal_id: int, body: RecountIn):
    r = services.recount(actor=request.user, proposal=proposal_id, reason=body.reason)
    return Status(201, {"passed": r.passed, "result": r.result, "at": _t(r.at)})


@router.post("/deliberation/proposals/{proposal_id}/withdraw", auth=AUTH, summary="Withdraw before the result (author, staff)")
def proposal_withdraw(request, proposal_id: int):
    return proposal_out(request, services.proposal_withdraw(actor=request.user, proposal=proposal_id))
