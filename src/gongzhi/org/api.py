"""Organisations and people in the JSON API. People are masked unless unmasked (logged)."""

from ninja import Router, Schema

from gongzhi.api import AUTH
from gongzhi.core import scopes
from gongzhi.core.errors import NotFound

from . import selectors, services
from .models import Person

router = Router(tags=["org"])


def person_out(p: Person) -> dict:
    party = getattr(p, "party", None)
    return {
        "id": p.id,
        "name": p.name,
        "phone": p.phone_masked,
        "id_number": p.id_masked,
        "registered_community": p.registered_community.code if p.registered_community_id else None,
        "party_status": party.status if party else None,
        "home_organization": party.home_organization.name if party else None,
    }


@router.get("/people", auth=AUTH, summary="People in my scope, masked, keyset-paginated")
def people(request, q: str = "", community: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, "registry.view")
    rows, next_after = selectors.keyset_page(
        selectors.people_visible_to(request.user, q=q, community=community), after=after, limit=limit
    )
    return {"items": [person_out(p) for p in rows], "next_after": next_after}


class UnmaskIn(Schema):
    field: str
    reason: str = ""


@router.post("/people/{person_id}/unmask", auth=AUTH, summary="Read a phone or ID number in clear (logged)")
def unmask(request, person_id: int, body: UnmaskIn):
    person = selectors.people_visible_to(request.user).filter(pk=person_id).first()
    if person is None:
        from django.utils.translation import gettext as _

        raise NotFound("no_person", _("人员不存在或不在您的范围内。"))
    value = services.person_unmask(actor=request.user, person=person, field=body.field, reason=body.reason,
                                   channel="api")
    return {"id": person.id, "field": body.field, "value": value}


@router.get("/organizations", auth=AUTH, summary="Organisations in my scope")
def organizations(request, kind: str = "", q: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, "registry.view")
    rows, next_after = selectors.keyset_page(
        selectors.organizations_visible_to(request.user, kind=kind, q=q), after=after, limit=limit
    )
    return {
        "items": [
            {"id": o.id, "name": o.name, "kind": o.kind, "parent_id": o.parent_id,
             "place": o.place.code if o.place_id else None}
            for o in rows
        ],
        "next_after": next_after,
    }
