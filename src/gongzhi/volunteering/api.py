"""The volunteering endpoints of the JSON API at /api/v1/: dual reports, teams, activities, sign-up,
check-in/out, finish and the year-end records. Same services and permissions as the pages; refusals
come out as {"error": {"code", "message"}} with their status."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import bounds
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.org.models import Organization

from . import exports, selectors, services

router = Router(tags=["volunteering"])


def _t(value):
    return timezone.localtime(value).isoformat() if value else None


def report_out(r) -> dict:
    return {"id": r.id, "kind": r.kind, "year": r.year, "state": r.state, "subject": r.subject_name,
            "organization_id": r.organization_id, "person_id": r.person_id, "community_id": r.community_id,
            "community": r.community.name, "offer": r.offer, "reason": r.reason, "version": r.version,
            "submitted_at": _t(r.submitted_at), "decided_at": _t(r.decided_at)}


def team_out(t) -> dict:
    return {"id": t.id, "name": t.name, "speciality": t.speciality, "description": t.description,
            "community_id": t.community_id, "unit_id": t.unit_id, "leader_id": t.leader_id, "active": t.active,
            "members": [m.person_id for m in t.memberships.all()], "version": t.version}


def signup_out(s) -> dict:
    return {"id": s.id, "activity_id": s.activity_id, "person_id": s.person_id, "state": s.state,
            "wait_position": selectors.wait_position(s), "checked_in_at": _t(s.checked_in_at),
            "checked_out_at": _t(s.checked_out_at),
            "hours_credited": str(s.hours_credited) if s.hours_credited is not None else None,
            # After check-out: the hours credited, or why none were (a stay below the minimum).
            "credit_note": services.credit_note(s) or None}


def activity_out(user, a, *, detail=False) -> dict:
    out = {"id": a.id, "title": a.title, "description": a.description, "organiser_kind": a.organiser_kind,
           "organiser": a.organiser_name, "team_id": a.team_id, "unit_id": a.unit_id,
           "community_id": a.community_id, "venue": a.venue, "starts_at": _t(a.starts_at), "ends_at": _t(a.ends_at),
           "capacity": a.capacity, "hours": str(a.hours), "state": a.state, "summary": a.summary,
           "beneficiaries": a.beneficiaries, "version": a.version}
    if detail:
        out["counts"] = selectors.counts(a)
        mine = selectors.signup_of(a, services.person_of(user))
        out["my_signup"] = signup_out(mine) if mine else None
        if services.can_organise(user, a):
            out["code"] = a.code
    return out


# ---- dual reports ----

class ReportIn(Schema):
    kind: str
    community_id: int | None = None
    organization_id: int | None = None
    offer: str = ""
    year: int | None = None


class VersionIn(Schema):
    version: int


class RejectIn(Schema):
    version: int
    reason: str = ""


@router.get("/volunteering/reports", auth=AUTH, summary="Duty reports (双报到) I may see (mine, my unit's, my communities')")
def report_list(request, kind: str = "", state: str = "", year: int | None = None, q: str = "", page: int = 1,
                limit: int = 50):
    if year is not None:
        bounds.check_year(year)
    qs = selectors.filter_reports(selectors.reports_visible_to(request.user), kind=kind, state=state, year=year, q=q)
    page, limit = bounds.page_window(page, limit)
    rows = list(qs[(page - 1) * limit: page * limit + 1])
    return {"items": [report_out(r) for r in rows[:limit]], "page": page, "has_next": len(rows) > limit}


@router.post("/volunteering/reports", auth=AUTH, response={201: dict}, summary="Report for duty (双报到): a unit to its community, a party member to where they live")
def report_submit(request, body: ReportIn):
    r = services.report_submit(actor=request.user, kind=body.kind, community=body.community_id,
                               organization=body.organization_id, offer=body.offer, year=body.year)
    return Status(201, report_out(r))


@router.post("/volunteering/reports/{pk}/approve", auth=AUTH, summary="Approve a duty report (community worker)")
def report_approve(request, pk: int, body: VersionIn):
    return report_out(services.report_approve(actor=request.user, report=pk, version=body.version))


@router.post("/volunteering/reports/{pk}/reject", auth=AUTH, summary="Return a duty report with a reason (community worker)")
def report_reject(request, pk: int, body: RejectIn):
    return report_out(services.report_reject(actor=request.user, report=pk, version=body.version,
                                             reason=body.reason))


@router.post("/volunteering/reports/{pk}/withdraw", auth=AUTH, summary="Withdraw my (my unit's) duty report")
def report_withdraw(request, pk: int, body: VersionIn):
    return report_out(services.report_withdraw(actor=request.user, report=pk, version=body.version))


@router.get("/volunteering/records/{org_id}", auth=AUTH,
            summary="Year-end service records of a home organisation's reported members (format=xlsx for Excel)")
def records(request, org_id: int, year: int | None = None, format: str = "json"):  # noqa: A002
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        raise NotFound("org_not_found", _("单位不存在。"))
    year = bounds.check_year(year or services.current_year())
    rows = selectors.member_record(request.user, org, year)
    if format == "xlsx":
        return exports.records_xlsx(org, year, rows)
    return {"organization_id": org.id, "year": year, "items": [{
        "person_id": r["person"].id, "name": r["person"].name, "community": r["community"].name,
        "activities": [{"id": s.activity_id, "title": s.activity.title, "hours": str(s.hours_credited)}
                       for s in r["activities"]],
        "activity_hours": str(r["activity_hours"]), "project_count": r["project_count"],
        "project_hours": str(r["project_hours"]), "total_hours": str(r["total_hours"]),
        "avg_rating": r["avg_rating"]} for r in rows]}


# ---- teams ----

class TeamIn(Schema):
    community_id: int
    name: str
    speciality: str = ""
    description: str = ""
    leader_id: int | None = None
    unit_id: int | None = None


class TeamPatch(Schema):
    version: int
    name: str | None = None
    speciality: str | None = None
    description: str | None = None
    leader_id: int | None = None
    active: bool | None = None


@router.get("/volunteering/teams", auth=AUTH, summary="Volunteer teams")
def team_list(request, q: str = "", community_id: int | None = None, page: int = 1, limit: int = 50):
    page, limit = bounds.page_window(page, limit)
    rows = list(selectors.teams_visible_to(request.user, q=q, community=community_id)
                .prefetch_related("memberships")[(page - 1) * limit: page * limit + 1])
    return {"items": [team_out(t) for t in rows[:limit]], "page": page, "has_next": len(rows) > limit}


@router.post("/volunteering/teams", auth=AUTH, response={201: dict}, summary="Create a team")
def team_create(request, body: TeamIn):
    t = services.team_create(actor=request.user, community=body.community_id, name=body.name,
                             speciality=body.speciality, description=body.description, leader=body.leader_id,
                             unit=body.unit_id)
    return Status(201, team_out(t))


@router.get("/volunteering/teams/{pk}", auth=AUTH, summary="One team")
def team_detail(request, pk: int):
    return team_out(selectors.team_get(pk))


@router.patch("/volunteering/teams/{pk}", auth=AUTH, summary="Edit a team (community worker, its liaison, leader)")
def team_update(request, pk: int, body: TeamPatch):
    fields = {k: v for k, v in body.dict(exclude_unset=True).items() if k != "version"}
    if "leader_id" in fields:
        fields["leader"] = fields.pop("leader_id")
    return team_out(services.team_update(actor=request.user, team=pk, version=body.version, **fields))


@router.post("/volunteering/teams/{pk}/join", auth=AUTH, summary="Join a team")
def team_join(request, pk: int):
    services.team_join(actor=request.user, team=pk)
    return team_out(selectors.team_get(pk))


@router.post("/volunteering/teams/{pk}/leave", auth=AUTH, summary="Leave a team")
def team_leave(request, pk: int):
    services.team_leave(actor=request.user, team=pk)
    return team_out(selectors.team_get(pk))


# ---- activities ----

class ActivityIn(Schema):
    title: str
    community_id: int
    venue: str
    starts_at: str
    ends_at: str
    capacity: int
    hours: str | float | None = None
    organiser_kind: str = "community"
    team_id: int | None = None
    unit_id: int | None = None
    description: str = ""
    publish: bool = False


class CancelIn(Schema):
    version: int
    reason: str = ""


class FinishIn(Schema):
    version: int
    summary: str = ""
    beneficiaries: int


class CapacityIn(Schema):
    version: int
    capacity: int


class CodeIn(Schema):
    code: str


@router.get("/volunteering/activities", auth=AUTH, summary="Activities (calendar window from/to, filters)")
def activity_list(request, date_from: str = "", date_to: str = "", state: str = "", community_id: int | None = None,
                  team_id: int | None = None, mine: bool = False, q: str = "", page: int = 1, limit: int = 50):
    import datetime as dt

    def day(v, label):
        if not v:
            return None
        try:
            d = dt.date.fromisoformat(v)
        except ValueError:
            raise ValidationFailed("bad_date", _("%(f)s格式应为 2026-05-01。") % {"f": label}) from None
        return bounds.check_day(d, label)

    person = services.person_of(request.user)
    qs = selectors.filter_activities(selectors.activities_visible_to(request.user),
                                     start=day(date_from, _("开始日期")), end=day(date_to, _("结束日期")),
                                     state=state, community=community_id, team=team_id, q=q,
                                     mine_person=person if mine and person else None)
    page, limit = bounds.page_window(page, limit)
    rows = list(qs[(page - 1) * limit: page * limit + 1])
    return {"items": [activity_out(request.user, a) for a in rows[:limit]], "page": page,
            "has_next": len(rows) > limit}


@router.post("/volunteering/activities", auth=AUTH, response={201: dict}, summary="Create (and publish) an activity")
def activity_create(request, body: ActivityIn):
    a = services.activity_create(actor=request.user, title=body.title, community=body.community_id, venue=body.venue,
                                 starts_at=body.starts_at, ends_at=body.ends_at, capacity=body.capacity,
                                 hours=body.hours, organiser_kind=body.organiser_kind, team=body.team_id,
                                 unit=body.unit_id, description=body.description, publish=body.publish)
    return Status(201, activity_out(request.user, a, detail=True))


@router.get("/volunteering/activities/{pk}", auth=AUTH, summary="One activity with my sign-up (code for organisers)")
def activity_detail(request, pk: int):
    return activity_out(request.user, selectors.activity_get_for(request.user, pk), detail=True)


@router.get("/volunteering/activities/{pk}/attendance", auth=AUTH, summary="Sign-ups and attendance (organisers)")
def activity_attendance(request, pk: int):
    a = selectors.activity_get_for(request.user, pk)
    return {"items": [{**signup_out(s), "name": s.person.name} for s in selectors.attendance(request.user, a)]}


class ActivityPatch(Schema):
    version: int
    title: str | None = None
    description: str | None = None
    venue: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    hours: str | float | None = None


@router.patch("/volunteering/activities/{pk}", auth=AUTH, summary="Edit an activity (organisers; draft or open)")
def activity_update(request, pk: int, body: ActivityPatch):
    fields = {k: v for k, v in body.dict(exclude_unset=True).items() if k != "version"}
    a = services.activity_update(actor=request.user, activity=pk, version=body.version, **fields)
    return activity_out(request.user, a, detail=True)


@router.post("/volunteering/activities/{pk}/publish", auth=AUTH, summary="Publish a draft")
def activity_publish(request, pk: int, body: VersionIn):
    a = services.activity_publish(actor=request.user, activity=pk, version=body.version)
    return activity_out(request.user, a, detail=True)


@router.post("/volunteering/activities/{pk}/cancel", auth=AUTH, summary="Cancel an activity (with a reason)")
def activity_cancel(request, pk: int, body: CancelIn):
    a = services.activity_cancel(actor=request.user, activity=pk, version=body.version, reason=body.reason)
    return activity_out(request.user, a, detail=True)


@router.post("/volunteering/activities/{pk}/finish", auth=AUTH, summary="Finish with summary and beneficiaries")
def activity_finish(request, pk: int, body: FinishIn):
    a = services.activity_finish(actor=request.user, activity=pk, version=body.version, summary=body.summary,
                                 beneficiaries=body.beneficiaries)
    return activity_out(request.user, a, detail=True)


@router.post("/volunteering/activities/{pk}/capacity", auth=AUTH, summary="Change capacity (promotes from wait list)")
def activity_capacity(request, pk: int, body: CapacityIn):
    a = services.activity_set_capacity(actor=request.user, activity=pk, version=body.version, capacity=body.capacity)
    return activity_out(request.user, a, detail=True)


@router.post("/volunteering/activities/{pk}/code", auth=AUTH, summary="Rotate the check-in code (6 letters or digits)")
def activity_rotate_code(request, pk: int):
    return activity_out(request.user, services.activity_rotate_code(actor=request.user, activity=pk), detail=True)


@router.post("/volunteering/activities/{pk}/signup", auth=AUTH, response={201: dict},
             summary="Sign up (or join the wait list when full)")
def activity_signup(request, pk: int):
    return Status(201, signup_out(services.signup_create(actor=request.user, activity=pk)))


@router.post("/volunteering/signups/{pk}/cancel", auth=AUTH, summary="Cancel a sign-up (frees a place)")
def signup_cancel(request, pk: int):
    return signup_out(services.signup_cancel(actor=request.user, signup=pk))


@router.post("/volunteering/signups/{pk}/{direction}", auth=AUTH,
             summary="Organiser checks someone in or out by hand (direction: checkin | checkout)")
def attendance_mark(request, pk: int, direction: str):
    if direction not in ("checkin", "checkout"):
        raise NotFound("unknown_action", _("未知的操作。"))
    return signup_out(services.attendance_mark(actor=request.user, signup=pk,
                                               direction="in" if direction == "checkin" else "out"))


@router.post("/volunteering/checkin", auth=AUTH, summary="Check in (签到) at an activity with the code shown at the venue (6 letters or digits)")
def check_in(request, body: CodeIn):
    return signup_out(services.check_in(actor=request.user, code=body.code))


@router.post("/volunteering/checkout", auth=AUTH, summary="Check out (签退) with the code; the time present is credited as time credits (时间币)")
def check_out(request, body: CodeIn):
    return signup_out(services.check_out(actor=request.user, code=body.code))
