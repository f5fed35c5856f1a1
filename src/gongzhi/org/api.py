"""Organisations, agreements, people and posts in the JSON API. People are masked unless
unmasked (logged). Writes go through the same services as the pages; a refused write comes out
through the GongzhiError handler as {"error": {"code", "message"}} with the error's status.
"""

from __future__ import annotations

import datetime as dt
import json

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import scopes
from gongzhi.core.errors import ValidationFailed

from . import export_io, selectors, services
from .models import Agreement, Membership, Organization, Person, Post

router = Router(tags=["org"])


# ---- output shapes ----

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
        "version": p.version,
    }


def organization_out(o: Organization) -> dict:
    return {"id": o.id, "name": o.name, "kind": o.kind, "parent_id": o.parent_id,
            "place": o.place.code if o.place_id else None, "version": o.version}


def agreement_out(a: Agreement) -> dict:
    return {"id": a.id, "number": a.number, "starts_on": a.starts_on.isoformat(), "ends_on": a.ends_on.isoformat(),
            "duties": a.duties, "commitments": a.commitments, "status": a.status, "version": a.version}


def membership_out(m: Membership) -> dict:
    return {
        "membership_id": m.id,
        "member": {"id": m.member.id, "name": m.member.name, "kind": m.member.kind,
                   "credit_code": m.member.credit_code},
        "role": m.role,
        "status": m.status,
        "joined_on": m.joined_on.isoformat(),
        "agreements": [agreement_out(a) for a in m.agreements.all()],
    }


def post_out(p: Post) -> dict:
    if p.grid_id:
        scope = {"kind": "grid", "id": p.grid.id, "code": p.grid.code, "name": p.grid.name}
    elif p.place_id:
        scope = {"kind": "place", "id": p.place.id, "code": p.place.code, "name": p.place.name}
    else:
        scope = {"kind": "organization", "id": p.organization.id, "code": None, "name": p.organization.name}
    return {"id": p.id, "person": {"id": p.person.id, "name": p.person.name}, "title": p.title, "scope": scope,
            "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat() if p.ends_on else None,
            "version": p.version}


def _org_for(user, organization_id: int | None) -> Organization | None:
    return None if organization_id is None else selectors.organization_get_for(user, organization_id)


# ---- people ----

@router.get("/people", auth=AUTH, summary="People in my scope, masked, keyset-paginated")
def people(request, q: str = "", community: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, "registry.view")
    rows, next_after = selectors.keyset_page(
        selectors.people_visible_to(request.user, q=q, community=community), after=after, limit=limit
    )
    return {"items": [person_out(p) for p in rows], "next_after": next_after}


class PersonIn(Schema):
    name: str
    registered_community: str
    phone: str = ""
    id_number: str = ""
    gender: str = ""
    party_status: str | None = None
    home_organization_id: int | None = None
    joined_on: dt.date | None = None


@router.post("/people", auth=AUTH, response={201: dict}, summary="Register a person (optionally a party member)")
def person_create(request, body: PersonIn):
    scopes.require(request.user, "registry.edit")
    community = services.community_by_code(body.registered_community)
    home = None
    if body.home_organization_id is not None:
        # The membership file may sit anywhere in the city, so this lookup is not scoped.
        home = Organization.objects.filter(pk=body.home_organization_id).first()
        if home is None:
            raise ValidationFailed("no_organization", _("组织关系所在党组织不存在。"))
    person = services.person_create(
        actor=request.user, name=body.name, phone=body.phone, id_number=body.id_number, gender=body.gender,
        registered_community=community, home_organization=home, party_status=body.party_status or None,
        joined_on=body.joined_on)
    person = selectors.people_visible_to(request.user).filter(pk=person.pk).first() or person
    return Status(201, person_out(person))


class PersonPatch(Schema):
    """Only the fields sent change. `version` is the one last read; a stale one gets 409.
    `party_status: null` removes the party membership; `phone: ""` / `id_number: ""` clear the number."""

    version: int
    name: str | None = None
    gender: str | None = None
    phone: str | None = None
    id_number: str | None = None
    registered_community: str | None = None
    party_status: str | None = None
    home_organization_id: int | None = None
    joined_on: dt.date | None = None


@router.patch("/people/{person_id}", auth=AUTH, summary="Edit a person (only the fields sent; optimistic version)")
def person_update(request, person_id: int, body: PersonPatch):
    scopes.require(request.user, "registry.edit")
    person = selectors.person_get_for(request.user, person_id)
    sent = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in sent.items() if k in ("name", "gender", "phone", "id_number", "joined_on",
                                                       "party_status")}
    for key in ("name", "gender", "phone", "id_number"):
        if key in changes and changes[key] is None:
            changes[key] = ""
    if "registered_community" in sent:
        code = sent["registered_community"]
        changes["registered_community"] = services.community_by_code(code) if code else None
    if "home_organization_id" in sent:
        changes["home_organization"] = _home_organization(sent["home_organization_id"])
    person = services.person_update(actor=request.user, person=person, version=body.version, **changes)
    return person_out(person)


def _home_organization(organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    # The membership file may sit anywhere in the city, so this lookup is not scoped.
    home = Organization.objects.filter(pk=organization_id).first()
    if home is None:
        raise ValidationFailed("no_organization", _("组织关系所在党组织不存在。"))
    return home


class UnmaskIn(Schema):
    field: str
    reason: str = ""


@router.post("/people/{person_id}/unmask", auth=AUTH, summary="Read a phone or ID number in clear (logged)")
def unmask(request, person_id: int, body: UnmaskIn):
    scopes.require(request.user, "person.unmask")
    person = selectors.person_get_for(request.user, person_id)
    value = services.person_unmask(actor=request.user, person=person, field=body.field, reason=body.reason,
                                   channel="api")
    return {"id": person.id, "field": body.field, "value": value}


class ExportIn(Schema):
    reason: str = ""


@router.post("/people/{person_id}/export", auth=AUTH,
             summary="Everything held about a person (PIPL art. 45), in clear; logged with its reason")
def export(request, person_id: int, body: ExportIn):
    scopes.require(request.user, "person.unmask")
    person = selectors.person_get_for(request.user, person_id)
    data = services.person_export(actor=request.user, person=person, reason=body.reason, channel="api")
    # Dates and decimals as the JSON download writes them.
    return json.loads(export_io.person_json(data))


# ---- organisations and agreements ----

@router.get("/organizations", auth=AUTH, summary="Organisations in my scope")
def organizations(request, kind: str = "", q: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, "registry.view")
    rows, next_after = selectors.keyset_page(
        selectors.organizations_visible_to(request.user, kind=kind, q=q), after=after, limit=limit
    )
    return {"items": [organization_out(o) for o in rows], "next_after": next_after}


class OrganizationIn(Schema):
    kind: str
    name: str
    parent_id: int | None = None
    place: str | None = None
    credit_code: str = ""


@router.post("/organizations", auth=AUTH, response={201: dict}, summary="Register an organisation")
def organization_create(request, body: OrganizationIn):
    scopes.require(request.user, "registry.edit")
    parent = _org_for(request.user, body.parent_id)
    place = selectors.place_by_code(body.place) if body.place else None
    org = services.organization_create(actor=request.user, kind=body.kind, name=body.name, parent=parent,
                                       place=place, credit_code=(body.credit_code or "").strip().upper())
    return Status(201, organization_out(org))


class OrganizationPatch(Schema):
    """Only the fields sent change. `parent_id: null` makes it top-level; `place: null` removes the place."""

    version: int
    kind: str | None = None
    name: str | None = None
    parent_id: int | None = None
    place: str | None = None
    credit_code: str | None = None


@router.patch("/organizations/{organization_id}", auth=AUTH,
              summary="Edit an organisation; a new parent moves its whole subtree (no cycles)")
def organization_update(request, organization_id: int, body: OrganizationPatch):
    scopes.require(request.user, "registry.edit")
    org = selectors.organization_get_for(request.user, organization_id)
    sent = body.model_dump(exclude_unset=True)
    changes = {k: ("" if v is None else v) for k, v in sent.items() if k in ("kind", "name", "credit_code")}
    if "parent_id" in sent:
        changes["parent"] = _org_for(request.user, sent["parent_id"])
    if "place" in sent:
        changes["place"] = selectors.place_by_code(sent["place"]) if sent["place"] else None
    org = services.organization_update(actor=request.user, organization=org, version=body.version, **changes)
    return organization_out(org)


@router.get("/organizations/{organization_id}", auth=AUTH, summary="One organisation with its member units")
def organization_detail(request, organization_id: int):
    scopes.require(request.user, "registry.view")
    org = selectors.organization_get_for(request.user, organization_id)
    return {**organization_out(org), "credit_code": org.credit_code,
            "member_units": [membership_out(m) for m in selectors.member_units_of(request.user, org)]}


class AgreementIn(Schema):
    organization_id: int
    member_id: int | None = None
    member_name: str = ""
    member_kind: str = ""
    member_credit_code: str = ""
    number: str
    starts_on: dt.date
    ends_on: dt.date
    joined_on: dt.date | None = None
    duties: list[str] = []
    commitments: list[str] = []
    role: str = "member_unit"


@router.post("/agreements", auth=AUTH, response={201: dict},
             summary="A member unit joins a joint committee or alliance with its co-building agreement")
def agreement_create(request, body: AgreementIn):
    """Name an existing unit by member_id, or give member_name and member_kind (found or registered)."""
    scopes.require(request.user, "registry.edit")
    organization = selectors.organization_get_for(request.user, body.organization_id)
    common = {"actor": request.user, "organization": organization, "number": body.number,
              "starts_on": body.starts_on, "ends_on": body.ends_on, "joined_on": body.joined_on,
              "duties": body.duties, "commitments": body.commitments, "role": body.role}
    if body.member_id is not None:
        # A unit may join committees outside the scope it sits in, so it is looked up unscoped.
        member = Organization.objects.filter(pk=body.member_id).first()
        if member is None:
            raise ValidationFailed("no_member", _("成员单位不存在。"))
        agreement = services.membership_join(member=member, **common)
    else:
        agreement = services.member_unit_join(unit_name=body.member_name, unit_kind=body.member_kind,
                                              credit_code=body.member_credit_code, **common)
    m = agreement.membership
    return Status(201, {**agreement_out(agreement), "membership_id": m.id, "organization_id": m.organization_id,
                        "member": {"id": m.member_id, "name": m.member.name, "kind": m.member.kind}})


class AgreementPatch(Schema):
    version: int
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    duties: list[str] | None = None
    commitments: list[str] | None = None


def _agreement_for_edit(request, agreement_id: int) -> Agreement:
    scopes.require(request.user, "registry.edit")
    return selectors.agreement_get_for(request.user, agreement_id)


@router.patch("/agreements/{agreement_id}", auth=AUTH, summary="Edit an open agreement's term, duties, commitments")
def agreement_update(request, agreement_id: int, body: AgreementPatch):
    agreement = _agreement_for_edit(request, agreement_id)
    sent = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in sent.items() if k in ("starts_on", "ends_on", "duties", "commitments")}
    for key in ("duties", "commitments"):
        if key in changes and changes[key] is None:
            changes[key] = []
    agreement = services.agreement_update(actor=request.user, agreement=agreement, version=body.version, **changes)
    return agreement_out(agreement)


class TerminateIn(Schema):
    version: int
    reason: str


@router.post("/agreements/{agreement_id}/terminate", auth=AUTH,
             summary="Terminate an agreement (reason required); the membership ends if no signed agreement is left")
def agreement_terminate(request, agreement_id: int, body: TerminateIn):
    agreement = _agreement_for_edit(request, agreement_id)
    agreement = services.agreement_terminate(actor=request.user, agreement=agreement, version=body.version,
                                             reason=body.reason)
    return {**agreement_out(agreement), "membership_status": agreement.membership.status}


class RenewIn(Schema):
    """The new term starts the day after the old one ends; duties and commitments carry over unless sent."""

    version: int
    number: str
    ends_on: dt.date
    duties: list[str] | None = None
    commitments: list[str] | None = None


@router.post("/agreements/{agreement_id}/renew", auth=AUTH, response={201: dict},
             summary="Renew an agreement: a new number, its term starting the day after the old one ends")
def agreement_renew(request, agreement_id: int, body: RenewIn):
    agreement = _agreement_for_edit(request, agreement_id)
    carry = {k: v for k, v in body.model_dump(exclude_unset=True).items()
             if k in ("duties", "commitments") and v is not None}
    renewed = services.agreement_renew(actor=request.user, agreement=agreement, version=body.version,
                                       number=body.number, ends_on=body.ends_on, **carry)
    return Status(201, {**agreement_out(renewed), "renews": agreement.id,
                        "membership_id": renewed.membership_id})


# ---- posts ----

@router.get("/posts", auth=AUTH, summary="Posts in my scope, keyset-paginated")
def posts(request, title: str = "", q: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, "registry.view")
    rows, next_after = selectors.keyset_page(selectors.posts_visible_to(request.user, title=title, q=q),
                                             after=after, limit=limit)
    return {"items": [post_out(p) for p in rows], "next_after": next_after}


class PostIn(Schema):
    person_id: int
    title: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    organization_id: int | None = None
    place: str | None = None
    grid: str | None = None


@router.post("/posts", auth=AUTH, response={201: dict}, summary="Assign a post (single-holder posts refuse a second holder)")
def post_create(request, body: PostIn):
    scopes.require(request.user, "registry.edit")
    person = selectors.person_get_for(request.user, body.person_id)
    post = services.post_assign(
        actor=request.user, person=person, title=body.title, starts_on=body.starts_on, ends_on=body.ends_on,
        organization=_org_for(request.user, body.organization_id),
        place=selectors.place_by_code(body.place) if body.place else None,
        grid=selectors.grid_by_code(body.grid) if body.grid else None)
    return Status(201, post_out(post))


def _post_for_edit(request, post_id: int) -> Post:
    scopes.require(request.user, "registry.edit")
    return selectors.post_get_for(request.user, post_id)


class PostPatch(Schema):
    """The term only. `ends_on: null` makes the term open-ended."""

    version: int
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


@router.patch("/posts/{post_id}", auth=AUTH, summary="Change a post's term (single-holder posts never overlap)")
def post_update(request, post_id: int, body: PostPatch):
    post = _post_for_edit(request, post_id)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if k in ("starts_on", "ends_on")}
    if "starts_on" in changes and changes["starts_on"] is None:
        changes["starts_on"] = ""  # refused by the service with its own message
    return post_out(services.post_update(actor=request.user, post=post, version=body.version, **changes))


class PostEndIn(Schema):
    version: int
    ends_on: dt.date | None = None


@router.post("/posts/{post_id}/end", auth=AUTH, summary="End a post (卸任) on ends_on, default today")
def post_end(request, post_id: int, body: PostEndIn):
    post = _post_for_edit(request, post_id)
    return post_out(services.post_end(actor=request.user, post=post, version=body.version, ends_on=body.ends_on))
