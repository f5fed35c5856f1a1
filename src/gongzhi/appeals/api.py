"""Appeals in the JSON API: submit, list (scoped, keyset), read with timeline, act, photos; the
whistle and the work orders it creates (a department's inbox, report for duty, result, rating).

Thin: parse, call a service or selector, shape the answer with present.py. Refusals come out
through the GongzhiError handler as {"error": {"code", "message", …}} with their status; a
transition refused by the table carries `allowed_actions`.
"""

from __future__ import annotations

import datetime as dt
import json

import pydantic
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.files import UploadedFile

from gongzhi.accounts.authentication import AUTH
from gongzhi.core.errors import NotFound, PermissionDenied

from . import intake, present, selectors, services
from .models import Source, State

router = Router(tags=["appeals"])


def api_photo_url(appeal, photo) -> dict:
    return {"id": photo.id, "content_type": photo.content_type, "size": photo.size,
            "url": f"/api/v1/appeals/{appeal.number}/photos/{photo.id}"}


def _out(request, appeal, *, detail=False) -> dict:
    if not detail:
        return present.appeal_out(request.user, appeal, photo_url=api_photo_url)
    if getattr(appeal, "fresh_timeline", None) is not None:
        # Just submitted: the service handed back its one event and photos, and there are no work orders.
        return present.appeal_out(request.user, appeal, photo_url=api_photo_url, events=appeal.fresh_timeline,
                                  photos=appeal.fresh_photos, work_orders=[])
    return present.appeal_out(request.user, appeal, photo_url=api_photo_url, events=selectors.timeline(appeal),
                              photos=selectors.photos_of(appeal), work_orders=selectors.work_orders_of(appeal))


class AppealIn(Schema):
    category: str
    text: str
    lon: float
    lat: float
    title: str = ""
    urgency: str = "normal"
    anonymous: bool = False
    source: str | None = None
    # Assisted entry (source hotline or visit): the resident's name and phone, and their consent.
    reporter_name: str = ""
    reporter_phone: str = ""
    consent_recorded: bool = False


def _wants_async(request) -> bool:
    """RFC 7240: `Prefer: respond-async` asks for 202 and a status URL instead of waiting."""
    prefer = request.headers.get("Prefer", "")
    return any(p.split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))


def intake_out(row) -> dict:
    out = {"token": row.token, "state": row.state, "state_label": str(row.get_state_display()),
           "received_at": row.received_at, "processed_at": row.processed_at,
           "status_url": f"/api/v1/appeals/intake/{row.token}", "appeal": None, "error": None}
    if row.appeal_id:
        out["appeal"] = {"number": row.appeal.number, "url": f"/api/v1/appeals/{row.appeal.number}"}
    if row.error_code:
        out["error"] = {"code": row.error_code, "message": row.error_message}
    return out


@router.post("/appeals", auth=AUTH, response={200: dict, 201: dict, 202: dict},
             summary="Submit an appeal (header Idempotency-Key makes retries safe; header "
                     "Prefer: respond-async answers 202 with a status URL and creates it in a batch)")
def appeal_submit(request, response: HttpResponse, body: AppealIn):
    source = body.source or (Source.API if request.headers.get("Authorization") else Source.RESIDENT)
    fields = {"category": body.category, "urgency": body.urgency, "title": body.title, "text": body.text,
              "lon": body.lon, "lat": body.lat, "anonymous": body.anonymous, "source": source,
              "reporter_name": body.reporter_name, "reporter_phone": body.reporter_phone,
              "consent_recorded": body.consent_recorded}
    key = request.headers.get("Idempotency-Key")
    if _wants_async(request):
        got, replayed = intake.accept(actor=request.user, idempotency_key=key, **fields)
        response["Preference-Applied"] = "respond-async"
        response["Location"] = f"/api/v1/appeals/intake/{got.token}"
        return Status(202, {**intake_out(got), "replayed": replayed})
    appeal = services.appeal_submit(actor=request.user, idempotency_key=key, **fields)
    return Status(200 if appeal.replayed else 201, _out(request, appeal, detail=True))


@router.get("/appeals/intake/{token}", auth=AUTH, response=dict,
            summary="An asynchronous submit's state: pending, done (with the appeal) or failed (with why)")
def appeal_intake(request, token: str):
    return intake_out(intake.status_for(request.user, token))


@router.get("/appeals", auth=AUTH, summary="Appeals I may see, newest first, keyset-paginated on id")
def appeal_list(request, state: str = "", category: str = "", mine: bool = False, before: int | None = None,
                limit: int = 50):
    qs = selectors.my_appeals(request.user) if mine else selectors.appeals_visible_to(request.user)
    if state in State.values:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category__code=category)
    rows, next_before = selectors.keyset_page(qs, before=before, limit=limit)
    return {"items": [_out(request, a) for a in rows], "next_before": next_before}


@router.get("/appeals/inbox", auth=AUTH,
            summary="My inbox: open appeals I own or at my level in my scope, due soonest first, keyset-paginated")
def appeal_inbox(request, after: str = "", limit: int = 50):
    if not selectors.has_appeal_inbox(request.user):
        raise PermissionDenied("forbidden", _("待办诉求只对网格员、社区工作者和街道干部开放。"))
    rows, next_after = selectors.due_keyset_page(selectors.inbox_for(request.user), after=after, limit=limit)
    return {"items": [_out(request, a) for a in rows], "next_after": next_after}


@router.get("/appeals/{number}", auth=AUTH, summary="One appeal with the actions I may take and its timeline")
def appeal_detail(request, number: str):
    return _out(request, selectors.appeal_get_for(request.user, number), detail=True)


@router.post("/appeals/{number}/photos", auth=AUTH, response={201: dict},
             summary="Add a photo (JPEG, PNG or WebP, ≤ 5 MB, ≤ 9 per appeal)")
def appeal_photo_add(request, number: str, file: File[UploadedFile]):
    photo = services.appeal_photo_add(actor=request.user, appeal=number, upload=file)
    return Status(201, api_photo_url(photo.appeal, photo))


@router.get("/appeals/{number}/photos/{photo_id}", auth=AUTH, summary="A photo of an appeal I may see")
def appeal_photo(request, number: str, photo_id: int):
    photo = services.photo_get_for(request.user, number, photo_id)
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


class ActionIn(Schema):
    version: int
    note: str = ""
    reason: str = ""
    redirect_to: str = ""
    resolved: bool | None = None
    satisfaction: str = ""
    comment: str = ""
    into: str = ""


class SummonsIn(Schema):
    organization_id: int
    # ISO 8601; without an offset the time is Asia/Shanghai. Left out: the category's default.
    report_due: dt.datetime | None = None
    resolve_due: dt.datetime | None = None


class WhistleIn(Schema):
    version: int
    note: str = ""
    summons: list[SummonsIn]


class UnmaskIn(Schema):
    field: str
    reason: str


@router.post("/appeals/{number}/reporter/unmask", auth=AUTH,
             summary="An assisted reporter's name or phone in clear (person.unmask in scope; always audited)")
def appeal_reporter_unmask(request, number: str, body: UnmaskIn):
    value = services.appeal_reporter_unmask(actor=request.user, appeal=number, field=body.field,
                                            reason=body.reason, channel="api")
    return {"number": number, "field": body.field, "value": value}


# Declared before /appeals/{number}/{action} so that it is matched first.
@router.post("/appeals/{number}/whistle", auth=AUTH,
             summary="Blow the whistle: summon departments or member units, each with its deadlines (street officer)")
def appeal_whistle(request, number: str, body: WhistleIn):
    appeal = services.whistle_blow(actor=request.user, appeal=number, note=body.note, version=body.version,
                                   summons=[s.dict() for s in body.summons])
    return _out(request, appeal, detail=True)


_COMMENT_BODY = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "maxLength": 1000}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "maxLength": 1000},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    }},
}


# Declared before /appeals/{number}/{action}: a comment is no transition.
@router.post("/appeals/{number}/comments", auth=AUTH, response={201: dict}, openapi_extra=_COMMENT_BODY,
             summary="Add a comment (JSON, or multipart with photos) while the appeal is open: reporter, owner, staff")
def appeal_comment(request, number: str):
    from . import comments

    if request.content_type == "multipart/form-data":
        text, photos = request.POST.get("text", ""), request.FILES.getlist("photos")
    else:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            raw = None
        text, photos = (raw.get("text", "") if isinstance(raw, dict) else ""), ()
    event = comments.appeal_comment(actor=request.user, appeal=number, text=text, photos=photos)
    return Status(201, present.event_out(request.user, event.appeal, event, api_photo_url))


@router.post("/appeals/{number}/{action}", auth=AUTH,
             summary="Take an action: accept, hand_on, hand_back, resolve, rate, reject, merge, close")
def appeal_act(request, number: str, action: str, body: ActionIn):
    if action not in services.TRANSITION_SERVICES:
        raise NotFound("unknown_action", _("未知的操作：%(a)s") % {"a": action},
                       {"actions": list(services.TRANSITION_SERVICES)})
    fields = body.dict(exclude={"version"})
    appeal = services.appeal_act(actor=request.user, appeal=number, action=action, version=body.version, **fields)
    return _out(request, appeal, detail=True)


# ---- work orders ----

def _wo_out(request, wo, *, detail=False) -> dict:
    photos = selectors.work_order_photos(wo) if detail else None
    return present.work_order_out(request.user, wo, photo_url=api_photo_url, photos=photos)


@router.get("/workorders", auth=AUTH,
            summary="My organisations' work orders, due soonest first, keyset-paginated on (due, id)")
def work_order_list(request, state: str = "open", after: str = "", limit: int = 50):
    if not selectors.has_work_order_inbox(request.user):
        raise PermissionDenied("forbidden", _("工单待办只对职能部门和成员单位的经办人开放。"))
    rows, next_after = selectors.due_keyset_page(selectors.work_order_inbox(request.user, state), after=after,
                                                 limit=limit)
    return {"items": [_wo_out(request, wo) for wo in rows], "next_after": next_after}


@router.get("/workorders/{work_order_id}", auth=AUTH, summary="One work order with the actions I may take")
def work_order_detail(request, work_order_id: int):
    return _wo_out(request, selectors.work_order_get_for(request.user, work_order_id), detail=True)


class WorkOrderActionIn(Schema):
    version: int
    note: str = ""
    reason: str = ""
    speed: int | None = None
    result: int | None = None
    comment: str = ""


class ResolveIn(Schema):
    version: int
    note: str = ""


_RESOLVE_BODY = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["version", "note"], "properties": {
            "version": {"type": "integer"}, "note": {"type": "string"}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["version", "note"], "properties": {
            "version": {"type": "integer"}, "note": {"type": "string"},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    }},
}


# Declared before /workorders/{id}/{action}: the result may come as JSON, or as a multipart form
# with result photos (JPEG, PNG or WebP, ≤ 5 MB each, ≤ 9 per work order).
@router.post("/workorders/{work_order_id}/resolve", auth=AUTH, openapi_extra=_RESOLVE_BODY,
             summary="Submit the result (JSON, or multipart with photos)")
def work_order_resolve(request, work_order_id: int):
    if request.content_type == "multipart/form-data":
        raw, photos = request.POST.dict(), request.FILES.getlist("photos")
    else:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            raw = None
        photos = ()
    try:
        body = ResolveIn.model_validate(raw if isinstance(raw, dict) else {})
    except pydantic.ValidationError as exc:
        raise ValidationError(exc.errors(include_url=False, include_context=False, include_input=False)) from None
    wo = services.summons_resolve(actor=request.user, work_order=work_order_id, note=body.note,
                                  version=body.version, photos=photos)
    return _wo_out(request, wo, detail=True)


@router.post("/workorders/{work_order_id}/{action}", auth=AUTH,
             summary="Act on a work order: report (报到), return (not ours), cancel (street), rate (street)")
def work_order_act(request, work_order_id: int, action: str, body: WorkOrderActionIn):
    if action not in services.SUMMONS_SERVICES:
        raise NotFound("unknown_action", _("未知的操作：%(a)s") % {"a": action},
                       {"actions": list(services.SUMMONS_SERVICES)})
    fields = body.dict(exclude={"version"})
    wo = services.summons_act(actor=request.user, work_order=work_order_id, action=action, version=body.version,
                              **fields)
    return _wo_out(request, wo, detail=True)
