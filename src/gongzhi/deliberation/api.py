"""The deliberation endpoints of the JSON API at /api/v1/: committees, the chair roster (generate,
publish, Excel), swaps of months. Same services and permissions as the pages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import bounds

from . import exports, selectors, services

router = Router(tags=["deliberation"])


def _t(value):
    return timezone.localtime(value).isoformat() if value else None


def committee_out(c) -> dict:
    return {"id": c.id, "name": c.name, "kind": c.kind, "place_id": c.place_id,
            "place": c.place.name if c.place_id else None}


def month_out(r) -> dict:
    t = r.term
    return {"month": f"{r.month:%Y-%m}", "term_id": t.id if t else None, "unit_id": t.unit_id if t else None,
            "unit": t.unit.name if t else None, "source": t.source if t else None, "published": r.published,
            "published_at": _t(t.published_at) if t else None, "mine": r.mine}


def swap_out(s) -> dict:
    return {"id": s.id, "term_a_id": s.term_a_id, "term_b_id": s.term_b_id, "month_a": f"{s.term_a.month:%Y-%m}",
            "month_b": f"{s.term_b.month:%Y-%m}", "unit_a_id": s.unit_a_id, "unit_b_id": s.unit_b_id,
            "unit_a": s.unit_a.name, "unit_b": s.unit_b.name, "reason": s.reason, "state": s.state,
            "created_at": _t(s.created_at), "decided_at": _t(s.decided_at)}


def roster_out(view) -> dict:
    return {"committee": committee_out(view.committee), "year": view.year, "drafts": view.drafts,
            "months": [month_out(r) for r in view.months], "swaps": [swap_out(s) for s in view.swaps]}


@router.get("/deliberation/committees", auth=AUTH, summary="Joint committees whose roster I follow (managers, viewers, member units' liaisons)")
def committee_list(request, q: str = "", page: int = 1, limit: int = 50):
    page, limit = bounds.page_window(page, limit)
    rows = list(selectors.committees_visible_to(request.user, q=q)[(page - 1) * limit: page * limit + 1])
    return {"items": [committee_out(c) for c in rows[:limit]], "page": page, "has_next": len(rows) > limit}


@router.get("/deliberation/committees/{committee_id}/roster/{year}", auth=AUTH,
            summary="A year's rotating chair (轮值主席); drafts for managers and member liaisons, format=xlsx for Excel")
def roster_get(request, committee_id: int, year: int, format: str = "json"):  # noqa: A002
    view = selectors.roster_of(request.user, committee_id, year)
    if format == "xlsx":
        return exports.roster_xlsx(view)
    return roster_out(view)


class PublishIn(Schema):
    through: dt.date | None = None


@router.post("/deliberation/committees/{committee_id}/roster/{year}/generate", auth=AUTH,
             summary="Plan (or re-plan) the year's open months: once each before anyone twice; published months stay")
def roster_generate(request, committee_id: int, year: int):
    committee = services.committee_of(committee_id)
    result = services.roster_generate(actor=request.user, committee=committee, year=year)
    out = roster_out(selectors.roster_of(request.user, committee_id, year))
    out["changed"] = [f"{m:%Y-%m}" for m in result.changed]
    out["gaps"] = [f"{m:%Y-%m}" for m in result.gaps]
    return out


@router.post("/deliberation/committees/{committee_id}/roster/{year}/publish", auth=AUTH,
             summary="Publish the year's months (up to `through`): published months are frozen")
def roster_publish(request, committee_id: int, year: int, body: PublishIn):
    committee = services.committee_of(committee_id)
    n = services.roster_publish(actor=request.user, committee=committee, year=year, through=body.through)
    out = roster_out(selectors.roster_of(request.user, committee_id, year))
    out["published"] = n
    return out


class SwapIn(Schema):
    term_id: int
    other_term_id: int
    reason: str = ""


@router.post("/deliberation/swaps", auth=AUTH, response={201: dict},
             summary="Ask another member unit to swap chair months (my unit's liaison)")
def swap_create(request, body: SwapIn):
    s = services.swap_request(actor=request.user, term_id=body.term_id, other_term_id=body.other_term_id,
                              reason=body.reason)
    return Status(201, swap_out(s))


@router.post("/deliberation/swaps/{swap_id}/accept", auth=AUTH, summary="Consent to a swap (the other unit's liaison)")
def swap_accept(request, swap_id: int):
    return swap_out(services.swap_decide(actor=request.user, swap_id=swap_id, accept=True))


@router.post("/deliberation/swaps/{swap_id}/decline", auth=AUTH, summary="Decline a swap (the other unit's liaison)")
def swap_decline(request, swap_id: int):
    return swap_out(services.swap_decide(actor=request.user, swap_id=swap_id, accept=False))


@router.post("/deliberation/swaps/{swap_id}/withdraw", auth=AUTH, summary="Withdraw my unit's swap request")
def swap_withdraw(request, swap_id: int):
    return swap_out(services.swap_withdraw(actor=request.user, swap_id=swap_id))


# ---- meetings and recurring series ----

def meeting_out(m) -> dict:
    return {"id": m.id, "kind": m.kind, "form": m.form, "title": m.title, "place_id": m.place_id,
            "committee_id": m.committee_id, "convener_id": m.convener_id, "series_id": m.series_id,
            "original_start": _t(m.original_start), "starts_at": _t(m.starts_at), "ends_at": _t(m.ends_at),
            "location": m.location, "state": m.state, "cancel_reason": m.cancel_reason, "version": m.version}


def series_out(s, *, coming=None) -> dict:
    out = {"id": s.id, "kind": s.kind, "form": s.form, "title": s.title, "place_id": s.place_id,
           "committee_id": s.committee_id, "rule": s.rule, "dtstart": _t(s.dtstart),
           "duration_minutes": s.duration_minutes, "location": s.location, "active": s.active,
           "exceptions": [{"original_start": _t(e.original_start), "cancelled": e.cancelled,
                           "new_start": _t(e.new_start), "new_end": _t(e.new_end), "reason": e.reason}
                          for e in s.exceptions.all()]}
    if coming is not None:
        out["coming"] = [{"original_start": _t(c.occurrence.original_start), "start": _t(c.occurrence.start),
                          "end": _t(c.occurrence.end), "moved": c.occurrence.moved, "cancelled": c.cancelled,
                          "meeting_id": c.meeting.id if c.meeting else None} for c in coming]
    return out


@router.get("/deliberation/meetings", auth=AUTH, summary="Meetings and sessions (public sessions: anyone signed in), by host; upcoming or past")
def meeting_list(request, place_id: int | None = None, committee_id: int | None = None, past: bool = False,
                 page: int = 1, limit: int = 50):
    page, limit = bounds.page_window(page, limit)
    qs = selectors.meetings_for(request.user, place=place_id, committee=committee_id, upcoming=not past)
    rows = list(qs[(page - 1) * limit: page * limit + 1])
    return {"items": [meeting_out(m) for m in rows[:limit]], "page": page, "has_next": len(rows) > limit}


class MeetingIn(Schema):
    kind: str
    form: str = ""
    title: str
    starts_at: str
    ends_at: str
    location: str = ""
    place_id: int | None = None
    committee_id: int | None = None
    convener_id: int | None = None


@router.post("/deliberation/meetings", auth=AUTH, response={201: dict},
             summary="A one-off meeting (deliberation.manage over its host); a theme activity's convener defaults to the month's chair")
def meeting_create(request, body: MeetingIn):
    m = services.meeting_create(actor=request.user, kind=body.kind, form=body.form, title=body.title,
                                starts_at=body.starts_at, ends_at=body.ends_at, location=body.location,
                                place=body.place_id, committee=body.committee_id, convener=body.convener_id)
    return Status(201, meeting_out(m))


@router.get("/deliberation/meetings/{meeting_id}", auth=AUTH, summary="One meeting")
def meeting_get(request, meeting_id: int):
    return meeting_out(services.meeting_of(meeting_id))


class ReasonIn(Schema):
    reason: str = ""


@router.post("/deliberation/meetings/{meeting_id}/cancel", auth=AUTH, summary="Cancel a meeting (one occurrence of a series: only that one)")
def meeting_cancel(request, meeting_id: int, body: ReasonIn):
    return meeting_out(services.meeting_cancel(actor=request.user, meeting=meeting_id, reason=body.reason))


class SeriesIn(Schema):
    kind: str
    form: str = ""
    title: str
    rule: str  # an RFC 5545 RRULE value, e.g. FREQ=MONTHLY;BYMONTHDAY=4,14,24, or a preset name (feng_si, weekly_thu)
    dtstart: str
    duration_minutes: int
    location: str = ""
    place_id: int | None = None
    committee_id: int | None = None


@router.post("/deliberation/series", auth=AUTH, response={201: dict},
             summary="Sessions that repeat by an RFC 5545 rule; occurrences are materialised 90 days ahead")
def series_create(request, body: SeriesIn):
    from .recurrence import PRESETS

    s = services.series_create(actor=request.user, kind=body.kind, form=body.form, title=body.title,
                               rule=PRESETS.get(body.rule, body.rule), dtstart=body.dtstart,
                               duration_minutes=body.duration_minutes, location=body.location, place=body.place_id,
                               committee=body.committee_id)
    return Status(201, series_out(s))


def _series_or_404(series_id: int):
    from gongzhi.core.errors import NotFound

    from .models import MeetingSeries

    s = MeetingSeries.objects.filter(pk=series_id).first() if bounds.db_ids([series_id]) else None
    if s is None:
        raise NotFound("series_not_found", _("找不到该议事安排。"))
    return s


@router.get("/deliberation/series/{series_id}", auth=AUTH, summary="A series with its occurrences of the next 90 days")
def series_get(request, series_id: int):
    s = _series_or_404(series_id)
    now = timezone.now()
    return series_out(s, coming=selectors.series_occurrences(s, now, now + services.HORIZON))


class ExceptionIn(Schema):
    original_start: str
    cancel: bool = False
    new_start: str | None = None
    new_end: str | None = None
    reason: str = ""


@router.post("/deliberation/series/{series_id}/exceptions", auth=AUTH,
             summary="Cancel or move one occurrence (by its original start); the others stay")
def series_exception(request, series_id: int, body: ExceptionIn):
    _series_or_404(series_id)
    services.series_exception(actor=request.user, series=series_id, original_start=body.original_start,
                              cancel=body.cancel, new_start=body.new_start, new_end=body.new_end, reason=body.reason)
    return series_get(request, series_id)


@router.post("/deliberation/series/{series_id}/stop", auth=AUTH, summary="Stop a series; occurrences still ahead are cancelled")
def series_stop(request, series_id: int):
    _series_or_404(series_id)
    n = services.series_stop(actor=request.user, series=series_id)
    return {"cancelled": n}


@router.post("/deliberation/calendar/token", auth=AUTH,
             summary="A new secret URL for my private calendar feed (the old one stops working); shown once")
def calendar_token(request):
    from django.urls import reverse

    token = services.feed_token_reset(actor=request.user)
    return {"url": request.build_absolute_uri(reverse("deliberation:feed_personal", args=[token]))}


# ---- what happens at a meeting: agenda, attendance, minutes, resolutions, action items ----

def agenda_out(a) -> dict:
    return {"id": a.id, "position": a.position, "title": a.title, "detail": a.detail, "source": a.source,
            "ref": a.ref, "raised_by": a.raised_by}


def action_out(a) -> dict:
    return {"id": a.id, "resolution_id": a.resolution_id, "title": a.title, "owner_user_id": a.owner_user_id,
            "owner_org_id": a.owner_org_id, "owner": a.owner_name, "due_on": a.due_on.isoformat(), "state": a.state,
            "done_at": _t(a.done_at), "done_note": a.done_note, "version": a.version}


def proceedings_out(request, m) -> dict:
    out = meeting_out(m)
    out["minutes"] = m.minutes
    out["agenda"] = [agenda_out(a) for a in m.agenda.all()]
    out["resolutions"] = [{"id": r.id, "text": r.text, "agenda_item_id": r.agenda_item_id,
                           "actions": [action_out(a) for a in r.actions.all()]} for r in m.resolutions.all()]
    from gongzhi.core import scopes

    if scopes.can(request.user, services.MANAGE, m):  # names of who came: the recorder's side only
        out["attendance"] = [{"name": a.name, "user_id": a.user_id, "unit_id": a.unit_id, "way": a.way,
                              "at": _t(a.at)} for a in m.attendance.all()]
    out["attendance_count"] = m.attendance.count()
    return out


@router.get("/deliberation/meetings/{meeting_id}/proceedings", auth=AUTH,
            summary="Agenda, minutes, resolutions with action items; the attendance list for the recorder's side")
def proceedings_get(request, meeting_id: int):
    return proceedings_out(request, services.meeting_of(meeting_id))


class AgendaIn(Schema):
    title: str = ""
    detail: str = ""
    appeal: str | None = None  # an open appeal's number: its title and text come along
    need: str | None = None  # an open need's number
    proposal: int | None = None  # a proposal's id
    raised_by: str = ""


@router.post("/deliberation/meetings/{meeting_id}/agenda", auth=AUTH, response={201: dict},
             summary="Add a topic to the agenda: typed, or an open appeal or need by its number (deliberation.manage)")
def agenda_add(request, meeting_id: int, body: AgendaIn):
    item = services.agenda_add(actor=request.user, meeting=meeting_id, title=body.title, detail=body.detail,
                               appeal=body.appeal, need=body.need, proposal=body.proposal, raised_by=body.raised_by)
    return Status(201, agenda_out(item))


@router.post("/deliberation/meetings/{meeting_id}/code", auth=AUTH,
             summary="The meeting's 6-digit sign-in code, to show in the room (deliberation.manage)")
def attendance_code(request, meeting_id: int):
    return {"code": services.attendance_code(actor=request.user, meeting=meeting_id)}


class CodeIn(Schema):
    code: str


@router.post("/deliberation/sign-in", auth=AUTH, response={201: dict},
             summary="Sign in to the meeting whose code is shown in the room (from 30 minutes before to 30 after)")
def sign_in(request, body: CodeIn):
    row = services.attendance_sign_in(actor=request.user, code=body.code)
    return Status(201, {"meeting_id": row.meeting_id, "title": row.meeting.title, "at": _t(row.at)})


class MarkIn(Schema):
    name: str
    user_id: int | None = None
    unit_id: int | None = None


@router.post("/deliberation/meetings/{meeting_id}/attendance", auth=AUTH, response={201: dict},
             summary="Mark someone present (deliberation.manage)")
def attendance_mark(request, meeting_id: int, body: MarkIn):
    row = services.attendance_mark(actor=request.user, meeting=meeting_id, name=body.name, user=body.user_id,
                                   unit=body.unit_id)
    return Status(201, {"id": row.id, "name": row.name, "way": row.way, "at": _t(row.at)})


class MinutesIn(Schema):
    minutes: str


@router.post("/deliberation/meetings/{meeting_id}/minutes", auth=AUTH,
             summary="Record (or correct) the minutes; the meeting is held (deliberation.manage, once started)")
def meeting_hold(request, meeting_id: int, body: MinutesIn):
    return proceedings_out(request, services.meeting_hold(actor=request.user, meeting=meeting_id,
                                                          minutes=body.minutes))


class ActionIn(Schema):
    title: str
    owner: str  # "user:ID" or "org:ID"
    due_on: str


class ResolutionIn(Schema):
    text: str
    agenda_item_id: int | None = None
    actions: list[ActionIn] = []


@router.post("/deliberation/meetings/{meeting_id}/resolutions", auth=AUTH, response={201: dict},
             summary="A resolution of a held meeting with its action items (owner and due date each); all or nothing")
def resolution_add(request, meeting_id: int, body: ResolutionIn):
    r = services.resolution_add(actor=request.user, meeting=meeting_id, text=body.text,
                                agenda_item=body.agenda_item_id, actions=[a.dict() for a in body.actions])
    return Status(201, {"id": r.id, "text": r.text, "actions": [action_out(a) for a in r.actions.all()]})


@router.get("/deliberation/actions", auth=AUTH, summary="Action items: mine, my units', my scope's; open or all")
def action_list(request, state: str = "open", page: int = 1, limit: int = 50):
    page, limit = bounds.page_window(page, limit)
    qs = services.actions_visible_to(request.user)
    if state in ("open", "done"):
        qs = qs.filter(state=state)
    rows = list(qs.order_by("due_on", "id")[(page - 1) * limit: page * limit + 1])
    return {"items": [action_out(a) for a in rows[:limit]], "page": page, "has_next": len(rows) > limit}


class DoneIn(Schema):
    note: str = ""


@router.post("/deliberation/actions/{action_id}/done", auth=AUTH,
             summary="Mark an action item done (its owner, or the meeting's managers)")
def action_done(request, action_id: int, body: DoneIn):
    return action_out(services.action_done(actor=request.user, action=action_id, note=body.note))
