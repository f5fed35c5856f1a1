"""The three lists in the JSON API at /api/v1/: needs, resources, projects, the public wish wall and
a unit's annual record.

Thin: parse, call a service or selector, shape the answer with present.py. Refusals come out
through the GongzhiError handler as {"error": {"code", "message", …}} with their status.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from gongzhi.accounts.authentication import AUTH, OPTIONAL_AUTH
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.org.models import Organization, Person

from . import present, selectors, services

router = Router(tags=["lists"])

LIMIT_MAX = 100


def _page(qs, limit: int, offset: int, shape) -> dict:
    limit = max(1, min(int(limit), LIMIT_MAX))
    offset = min(max(0, int(offset)), 10**9)
    total = qs.count()
    return {"count": total, "limit": limit, "offset": offset, "items": [shape(x) for x in qs[offset:offset + limit]]}


def _small(pk) -> int:
    """An id from the client, or 0 (which matches nothing) when it could not be one."""
    return pk if isinstance(pk, int) and 0 < pk < 2**63 else 0


def _org(pk):
    if pk in (None, ""):
        return None
    org = Organization.objects.filter(pk=_small(pk)).first()
    if org is None:
        raise ValidationFailed("bad_org", _("找不到所选单位。"))
    return org


def _person(pk):
    if pk in (None, ""):
        return None
    person = Person.objects.filter(pk=_small(pk)).first()
    if person is None:
        raise ValidationFailed("bad_person", _("找不到所选党员。"))
    return person


def _team(pk):
    if pk in (None, ""):
        return None
    from gongzhi.volunteering.models import Team

    team = Team.objects.filter(pk=_small(pk)).first()
    if team is None:
        raise ValidationFailed("bad_team", _("找不到所选志愿服务队。"))
    return team


# ---- needs ----

class NeedIn(Schema):
    title: str
    due_on: str
    kind: str = "service"
    description: str = ""
    category: str = "other"
    skill: str = "other"
    beneficiary: str = ""
    beneficiaries_count: int = 1
    place: str | None = None
    grid: str | None = None
    lon: float | None = None
    lat: float | None = None
    urgency: str = "normal"
    source: str = "resident"
    source_ref: str = ""


class NeedPatch(Schema):
    version: int | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    skill: str | None = None
    beneficiary: str | None = None
    beneficiaries_count: int | None = None
    urgency: str | None = None
    due_on: str | None = None


class VersionIn(Schema):
    version: int | None = None
    reason: str = ""


class ClaimIn(Schema):
    version: int | None = None
    organization: int | None = None


class DispatchIn(Schema):
    version: int | None = None
    taker_organization: int | None = None
    taker_person: int | None = None
    taker_team: int | None = None
    resource: int | None = None


class RateIn(Schema):
    rating: int
    comment: str = ""
    version: int | None = None


@router.get("/needs", auth=AUTH, summary="Needs I may see, newest first, filtered and paginated")
def need_list(request, state: str = "", kind: str = "", skill: str = "", category: str = "", urgency: str = "",
              source: str = "", q: str = "", limit: int = 50, offset: int = 0):
    qs = selectors.filter_needs(selectors.needs_visible_to(request.user), state=state, kind=kind, skill=skill,
                                category=category, urgency=urgency, source=source, q=q)
    return _page(qs, limit, offset, lambda n: present.need_out(request.user, n))


@router.post("/needs", auth=AUTH, response={201: dict}, summary="Post a need or a micro-wish")
def need_create(request, body: NeedIn):
    need = services.need_create(actor=request.user, **body.dict())
    return Status(201, present.need_out(request.user, need, detail=True))


@router.get("/needs/{number}", auth=AUTH, summary="One need with its project and the actions allowed to me")
def need_detail(request, number: str):
    return present.need_out(request.user, services.need_get_for(actor=request.user, number=number), detail=True)


@router.patch("/needs/{number}", auth=AUTH, summary="Edit an open need")
def need_update(request, number: str, body: NeedPatch):
    need = services.need_get_for(actor=request.user, number=number)
    fields = {k: v for k, v in body.dict(exclude_unset=True).items() if k != "version"}
    need = services.need_update(actor=request.user, need=need, version=body.version, **fields)
    return present.need_out(request.user, need, detail=True)


@router.post("/needs/{number}/withdraw", auth=AUTH, summary="Withdraw an open need")
def need_withdraw(request, number: str, body: VersionIn):
    need = services.need_get_for(actor=request.user, number=number)
    need = services.need_withdraw(actor=request.user, need=need, reason=body.reason, version=body.version)
    return present.need_out(request.user, need, detail=True)


@router.post("/needs/{number}/claim", auth=AUTH, summary="Claim a need (a party member, or a liaison for its unit)")
def need_claim(request, number: str, body: ClaimIn):
    need = services.need_get_for(actor=request.user, number=number, action="claim")
    project = services.need_claim(actor=request.user, need=need, organization=_org(body.organization),
                                  version=body.version)
    return present.project_out(request.user, project, detail=True)


@router.post("/needs/{number}/dispatch", auth=AUTH, summary="Dispatch a need to one taker (the community)")
def need_dispatch(request, number: str, body: DispatchIn):
    need = services.need_get_for(actor=request.user, number=number)
    resource = None
    if body.resource is not None:
        resource = services.resource_get_for(actor=request.user, pk=body.resource)
    project = services.need_dispatch(
        actor=request.user, need=need, taker_organization=_org(body.taker_organization),
        taker_person=_person(body.taker_person), taker_team=_team(body.taker_team), resource=resource,
        version=body.version)
    return present.project_out(request.user, project, detail=True)


@router.post("/needs/{number}/rate", auth=AUTH, summary="Rate the service (the need's requester)")
def need_rate(request, number: str, body: RateIn):
    need = services.need_get_for(actor=request.user, number=number)
    need = services.need_rate(actor=request.user, need=need, rating=body.rating, comment=body.comment,
                              version=body.version)
    return present.need_out(request.user, need, detail=True)


# ---- resources ----

class ResourceIn(Schema):
    title: str
    kind: str = "service"
    skill: str = "other"
    description: str = ""
    capacity: int = 1
    availability: str = ""
    available_from: str | None = None
    available_until: str | None = None
    places: list[str] = []
    grids: list[str] = []
    lon: float | None = None
    lat: float | None = None
    organization: int | None = None
    team: int | None = None
    person: int | None = None


class ResourcePatch(Schema):
    version: int | None = None
    title: str | None = None
    kind: str | None = None
    skill: str | None = None
    description: str | None = None
    capacity: int | None = None
    availability: str | None = None
    available_from: str | None = None
    available_until: str | None = None
    places: list[str] | None = None
    grids: list[str] | None = None


@router.get("/resources", auth=AUTH, summary="Resources I may see, filtered and paginated")
def resource_list(request, kind: str = "", skill: str = "", owner_kind: str = "", active: str = "", q: str = "",
                  limit: int = 50, offset: int = 0):
    qs = selectors.filter_resources(selectors.resources_visible_to(request.user), kind=kind, skill=skill,
                                    owner_kind=owner_kind, active=active, q=q)
    return _page(qs, limit, offset, lambda r: present.resource_out(request.user, r))


@router.post("/resources", auth=AUTH, response={201: dict}, summary="List a resource (a unit, team or member)")
def resource_create(request, body: ResourceIn):
    data = body.dict()
    org, team, person = _org(data.pop("organization")), _team(data.pop("team")), _person(data.pop("person"))
    resource = services.resource_create(actor=request.user, organization=org, team=team, person=person, **data)
    return Status(201, present.resource_out(request.user, resource))


@router.get("/resources/{pk}", auth=AUTH, summary="One resource")
def resource_detail(request, pk: int):
    return present.resource_out(request.user, services.resource_get_for(actor=request.user, pk=pk))


@router.patch("/resources/{pk}", auth=AUTH, summary="Edit a resource (its owner or list staff)")
def resource_update(request, pk: int, body: ResourcePatch):
    resource = services.resource_get_for(actor=request.user, pk=pk)
    fields = {k: v for k, v in body.dict(exclude_unset=True).items() if k != "version"}
    resource = services.resource_update(actor=request.user, resource=resource, version=body.version, **fields)
    return present.resource_out(request.user, resource)


@router.post("/resources/{pk}/deactivate", auth=AUTH, summary="Stop offering a resource")
def resource_deactivate(request, pk: int, body: VersionIn):
    resource = services.resource_get_for(actor=request.user, pk=pk)
    resource = services.resource_deactivate(actor=request.user, resource=resource, version=body.version)
    return present.resource_out(request.user, resource)


# ---- projects ----

class AcceptIn(Schema):
    version: int | None = None
    plan: str = ""
    starts_on: str | None = None
    ends_on: str | None = None
    budget: str | None = None
    people: int | None = None


class BundleIn(Schema):
    needs: list[str]
    title: str
    taker_organization: int | None = None
    taker_person: int | None = None
    taker_team: int | None = None
    resource: int | None = None


@router.post("/projects/bundle", auth=AUTH, response={201: dict},
             summary="Dispatch several open needs of one community as one project (all or nothing)")
def project_bundle(request, body: BundleIn):
    needs = [services.need_get_for(actor=request.user, number=n) for n in body.needs]
    resource = services.resource_get_for(actor=request.user, pk=body.resource) if body.resource else None
    project = services.needs_dispatch_bundle(
        actor=request.user, needs=needs, title=body.title, taker_organization=_org(body.taker_organization),
        taker_person=_person(body.taker_person), taker_team=_team(body.taker_team), resource=resource)
    return Status(201, present.project_out(request.user, project, detail=True))


@router.get("/projects", auth=AUTH, summary="Projects I may see (mine=true: my orders as a taker)")
def project_list(request, state: str = "", via: str = "", taker_kind: str = "", q: str = "", mine: bool = False,
                 limit: int = 50, offset: int = 0):
    base = selectors.my_orders(request.user) if mine else selectors.projects_visible_to(request.user)
    qs = selectors.filter_projects(base, state=state, via=via, taker_kind=taker_kind, q=q)
    return _page(qs, limit, offset, lambda p: present.project_out(request.user, p))


@router.get("/projects/{number}", auth=AUTH, summary="One project with its needs and the actions allowed to me")
def project_detail(request, number: str):
    return present.project_out(request.user, services.project_get_for(actor=request.user, number=number),
                               detail=True)


@router.post("/projects/{number}/accept", auth=AUTH, summary="Accept the order (the taker)")
def project_accept(request, number: str, body: AcceptIn):
    project = services.project_get_for(actor=request.user, number=number)
    project = services.project_accept(actor=request.user, project=project, plan=body.plan, starts_on=body.starts_on,
                                      ends_on=body.ends_on, budget=body.budget, people=body.people,
                                      version=body.version)
    return present.project_out(request.user, project, detail=True)


@router.post("/projects/{number}/decline", auth=AUTH, summary="Decline the order; the need goes back to open")
def project_decline(request, number: str, body: VersionIn):
    project = services.project_get_for(actor=request.user, number=number)
    project = services.project_decline(actor=request.user, project=project, reason=body.reason,
                                       version=body.version)
    return present.project_out(request.user, project, detail=True)


@router.post("/projects/{number}/cancel", auth=AUTH, summary="Cancel a project (the community)")
def project_cancel(request, number: str, body: VersionIn):
    project = services.project_get_for(actor=request.user, number=number)
    project = services.project_cancel(actor=request.user, project=project, reason=body.reason,
                                      version=body.version)
    return present.project_out(request.user, project, detail=True)


@router.post("/projects/{number}/done", auth=AUTH, summary="Report the outcome (multipart, photos optional)")
def project_done(request, number: str, beneficiaries_served: Form[str], hours: Form[str], summary: Form[str],
                 version: Form[str] = "", photos: File[list[UploadedFile]] = None):
    project = services.project_get_for(actor=request.user, number=number)
    project = services.project_done(actor=request.user, project=project, beneficiaries_served=beneficiaries_served,
                                    hours=hours, summary=summary, photos=photos or [], version=version or None)
    return present.project_out(request.user, project, detail=True)


@router.post("/projects/{number}/rate", auth=AUTH, summary="Rate the project's needs (their requester)")
def project_rate(request, number: str, body: RateIn):
    project = services.project_get_for(actor=request.user, number=number)
    services.project_rate(actor=request.user, project=project, rating=body.rating, comment=body.comment)
    return present.project_out(request.user, project, detail=True)


# ---- public and records ----

@router.get("/wishes", auth=OPTIONAL_AUTH, summary="The public wish wall: nothing personal")
def wish_list(request, place: str = ""):
    from gongzhi.places.models import Place

    where = Place.objects.filter(code=place).first() if place else None
    cards = selectors.wish_wall(place=where)
    return {"count": len(cards), "waiting": selectors.wishes_waiting_count(place=where), "items": [{**c, "due_on": c["due_on"].isoformat()} for c in cards]}


@router.get("/units/{org_id}/record", auth=AUTH, summary="A unit's annual co-building record from the lists")
def unit_record(request, org_id: int, year: int | None = None):
    org = Organization.objects.filter(pk=_small(org_id)).first()
    if org is None:
        raise NotFound("not_found", _("找不到该单位。"))
    if not present.can_read_unit_record(request.user, org):
        raise PermissionDenied("forbidden", _("您没有权限查看该单位的共建记录。"))
    year = year or timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise ValidationFailed("bad_year", _("年份无效。"))
    rec = selectors.unit_record(org, year)
    rec["hours"] = str(rec["hours"])
    return rec

