"""How appeals read and are posted through GeoReport v2: categories as services, appeals as requests.

Privacy is decided here and nowhere else in the facade:
- no reporter identity ever: no names, phones, user or account ids (the querysets do not even load
  the reporter's encrypted fields), and phone and ID numbers typed into the description or a reason
  are masked (core.pii.mask_public_text, the one rule of every public output);
- the point is the appeal's own only for a caller whose api_key belongs to staff with the appeal
  in scope (or a superuser); everyone else gets the centroid of the appeal's micro grid.
Writes go through appeals.services.appeal_submit, the only door to creating an appeal.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gongzhi.appeals import public
from gongzhi.appeals import selectors as appeal_selectors
from gongzhi.appeals import services as appeal_services
from gongzhi.appeals.models import Category, Source, Urgency
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.scopes import roles_of

from .models import Open311Token

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this facade's documents last changed shape (discovery's `changeset`).
CHANGESET = "2026-11-25T00:00:00+08:00"
FORMATS = ["application/json", "text/xml"]

DEFAULT_DAYS = 90  # GET requests without dates: the most recent 90 days (the spec's default)
MAX_SPAN_DAYS = 90  # the spec: a start_date/end_date range may not span more than 90 days
MAX_RESULTS = 1000  # the spec recommends at most 1000 requests per response; newest first
MAX_IDS = 1000

# The statuses, the grid-centre location, the masked text and the notes all come from the one public
# view of an appeal (appeals/public.py), shared with the public pages and the public JSON API.
CLOSED_STATES, OPEN, CLOSED = public.CLOSED_STATES, public.OPEN, public.CLOSED
status_of = public.status_of
grid_centroid = public.grid_centroid
mask_text = public.mask_text
status_notes = public.status_notes
agency_responsible = public.agency_responsible


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _hours(n: int) -> str:
    return _("%(n)d 小时") % {"n": n}


def refuse_nul(path: str, *params) -> None:
    """A NUL byte anywhere in the address or a parameter is a 400: PostgreSQL refuses it in text, and
    a query that reached the database with one would fail as a 500."""
    values = [path, *(v for p in params for key in p for v in (key, *p.getlist(key)))]
    if any("\x00" in v for v in values):
        raise ValidationFailed("nul_byte", _("参数中含有无效字符（NUL）。"))


# ---- services (categories) ----

def active_categories() -> list[Category]:
    return appeal_selectors.categories()


def _keywords(cat: Category) -> str:
    words = [w.strip() for w in re.split(r"[、，,；;/]", cat.description or "") if w.strip()]
    return ",".join(dict.fromkeys(w for w in [cat.name, cat.name_en, *words] if w))


def service_out(cat: Category) -> dict:
    return {
        "service_code": cat.code,
        "service_name": cat.label,
        "description": cat.description,
        "metadata": True,  # every service has a definition: the urgency attribute
        "type": "realtime",
        "keywords": _keywords(cat),
        "group": cat.default_department.name if cat.default_department_id else "",
    }


def service_get(code: str) -> Category:
    """An active category by its code, or the spec's 404."""
    cat = next((c for c in active_categories() if c.code == code), None)
    if cat is None:
        raise NotFound("unknown_service_code", _("未知的服务编码（service_code）：%(code)s。可用的编码见 services.json。")
                       % {"code": code})
    return cat


def service_definition_out(cat: Category) -> dict:
    urgent_respond, urgent_resolve = cat.hours(Urgency.URGENT)
    normal_respond, normal_resolve = cat.hours(Urgency.NORMAL)
    return {
        "service_code": cat.code,
        "attributes": [{
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("urgent 或 normal，不填为 normal"),
            "order": 1,
            "description": _("紧急程度：紧急诉求 %(ur)s内响应、%(uv)s内办结；一般诉求 %(nr)s内响应、%(nv)s内办结。") % {
                "ur": _hours(urgent_respond), "uv": _hours(urgent_resolve),
                "nr": _hours(normal_respond), "nv": _hours(normal_resolve)},
            "values": [{"key": Urgency.URGENT.value, "name": str(Urgency.URGENT.label)},
                       {"key": Urgency.NORMAL.value, "name": str(Urgency.NORMAL.label)}],
        }],
    }


# ---- requests (appeals) ----

# Roles that make a user staff (anything but a resident's or a party member's own role).
_NOT_STAFF_ROLES = frozenset({"resident", "party_member"})


def exact_point_ids(actor, appeals) -> set[int]:
    """The appeals whose own point the caller may see: staff (or a superuser) with the appeal in scope.

    "In scope" is whatever the appeals module lets the caller read (its grid, community or street
    scope, a department summoned to it by a whistle, …): one query over the page, never one a row.
    Residents get the grid even for their own appeals: the open-data view is the same for them all.
    """
    if actor is None or not appeals:
        return set()
    if not (getattr(actor, "is_superuser", False) or roles_of(actor) - _NOT_STAFF_ROLES):
        return set()
    return set(appeal_selectors.appeals_visible_to(actor).filter(pk__in=[a.pk for a in appeals])
               .values_list("pk", flat=True))


def first_photo(appeal):
    photos = list(appeal.photos.all())  # prefetched in id order
    return photos[0] if photos else None


def request_out(appeal, *, exact=False, media_url=None) -> dict:
    """One appeal as a GeoReport v2 request, read from its public view (appeals.public): its own
    point only if `exact` (see exact_point_ids).

    `media_url(appeal, photo)` builds the URL of the photo's access-checked route (the photo itself
    is not public).
    """
    view = public.public_appeal(appeal)
    lon, lat = (appeal.lon, appeal.lat) if exact else (view.lon, view.lat)
    photo = first_photo(appeal)
    return {
        "service_request_id": view.number,
        "status": view.status,
        "status_notes": view.status_notes,
        "service_name": view.category_name,
        "service_code": view.category_code,
        "description": view.text,
        "agency_responsible": view.agency_responsible,
        "service_notice": "",
        "requested_datetime": _iso(view.submitted_at),
        "updated_datetime": _iso(view.updated_at),
        "expected_datetime": _iso(view.expected_at),
        "address": view.grid_name,
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": media_url(appeal, photo) if (photo is not None and media_url) else None,
    }


# ---- the filters of GET requests ----

@dataclass(frozen=True)
class Filters:
    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset()


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_w3(value: str, *, name: str, end_of_day=False) -> dt.datetime:
    """A W3C datetime (2010-01-01T00:00:00Z, …+08:00) or a date; no zone means Asia/Shanghai.

    A '+' left unencoded in a query string arrives as a space: "…T00:00:00 08:00" is read as +08:00.
    """
    raw = value.strip()
    raw = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            day = parse_date(raw)
            when = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min) if day else None
        else:
            when = parse_datetime(raw)
    except ValueError:
        when = None
    if when is None:
        raise ValidationFailed("bad_date", _("%(name)s 不是有效的 W3C 日期时间（例如 2026-01-01T00:00:00+08:00）：%(value)s")
                               % {"name": name, "value": value})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def parse_filters(params, now=None) -> Filters:
    """The spec's filters. service_request_id overrides all others; without dates: the last 90 days."""
    ids = tuple(dict.fromkeys(v.upper() for v in _list(params.get("service_request_id"))))
    if len(ids) > MAX_IDS:
        raise ValidationFailed("too_many_ids", _("一次最多查询 %(n)d 个 service_request_id。") % {"n": MAX_IDS})
    if ids:
        return Filters(ids=ids)
    codes = tuple(dict.fromkeys(_list(params.get("service_code"))))
    if codes:
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise NotFound("unknown_service_code", _("未知的服务编码（service_code）：%(code)s。可用的编码见 services.json。")
                           % {"code": ",".join(unknown)})
    statuses = frozenset(s.lower() for s in _list(params.get("status")))
    if statuses - {OPEN, CLOSED}:
        raise ValidationFailed("bad_status", _("status 只能是 open 或 closed（可用逗号分隔）：%(value)s")
                               % {"value": params.get("status")})
    start_raw, end_raw = params.get("start_date"), params.get("end_date")
    start = parse_w3(start_raw, name="start_date") if start_raw else None
    end = parse_w3(end_raw, name="end_date", end_of_day=True) if end_raw else None
    span = dt.timedelta(days=MAX_SPAN_DAYS)
    if start is None and end is None:
        end = now or timezone.now()
        start = end - dt.timedelta(days=DEFAULT_DAYS)
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    if start > end:
        raise ValidationFailed("bad_date_range", _("start_date 不能晚于 end_date。"))
    if end - start > span:
        raise ValidationFailed("date_range_too_long", _("start_date 到 end_date 不能超过 %(n)d 天。") % {
            "n": MAX_SPAN_DAYS})
    return Filters(codes=codes, start=start, end=end, statuses=statuses)


# ---- POST requests ----

def actor_for_key(key, request):
    """The user an api_key belongs to (as gongzhi.accounts.authentication does), or the spec's 403."""
    from gongzhi.accounts.authentication import user_for_token

    user = user_for_token(key, request) if key else None
    if user is None:
        raise PermissionDenied("bad_api_key", _("api_key 无效或已撤销；请向平台管理员申请（gongzhi create_token）。"))
    return user


@dataclass
class Posted:
    appeal: object
    token: str
    created: bool


def token_for(appeal) -> str:
    """The appeal's Open311 token, issued once: a replayed POST gets the same one back."""
    existing = Open311Token.objects.filter(appeal=appeal).values_list("token", flat=True).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Open311Token.objects.create(appeal=appeal).token
    except IntegrityError:  # a twin request issued it first
        return Open311Token.objects.values_list("token", flat=True).get(appeal=appeal)


def request_post(*, actor, form, files=None, idempotency_key=None) -> Posted:
    """Create an appeal from a GeoReport v2 POST, with the api_key's user as its reporter.

    Only lat/long locate a request (address_string/address_id alone are refused); the name, email
    and phone fields are not stored: a self-submitted appeal's reporter is the key's user, and
    appeals keep a resident's phone only for assisted entry. media_url is not fetched (cities run on
    closed networks and a server fetching URLs it is handed is an SSRF door); a `media` file upload
    becomes the appeal's photo.
    """
    if actor is None:
        raise PermissionDenied("api_key_required", _("提交诉求须提供 api_key（由平台管理员通过 gongzhi create_token 签发）。"))
    code = (form.get("service_code") or "").strip()
    if not code:
        raise ValidationFailed("service_code_required", _("请提供 service_code（服务编码）。"))
    service_get(code)
    lat, lon = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    if not lat and not lon:
        if (form.get("address_string") or "").strip() or (form.get("address_id") or "").strip():
            raise ValidationFailed("location_unsupported", _("本平台只能按经纬度定位：请提供 lat 和 long，暂不支持 address_string 或 address_id。"))
        raise ValidationFailed("location_required", _("请提供问题发生位置的经纬度 lat 和 long。"))
    if not lat or not lon:
        raise ValidationFailed("location_required", _("lat 和 long 须同时提供。"))
    urgency = (form.get("attribute[urgency]") or Urgency.NORMAL).strip().lower()
    photos = files.getlist("media") if files is not None else []
    appeal = appeal_services.appeal_submit(
        actor=actor, category=code, text=form.get("description") or "", lon=lon, lat=lat, urgency=urgency,
        source=Source.OPEN311, idempotency_key=idempotency_key, photos=photos)
    return Posted(appeal=appeal, token=token_for(appeal), created=not getattr(appeal, "replayed", False))


def service_notice(appeal) -> str:
    fmt = "%Y-%m-%d %H:%M"
    return _("诉求 %(number)s 已登记，将于 %(respond)s 前响应、%(resolve)s 前办结。") % {
        "number": appeal.number, "respond": timezone.localtime(appeal.respond_due).strftime(fmt),
        "resolve": timezone.localtime(appeal.resolve_due).strftime(fmt)}


def posted_out(posted: Posted) -> dict:
    return {"service_request_id": posted.appeal.number, "token": posted.token,
            "service_notice": service_notice(posted.appeal), "account_id": None}


def token_get(token: str) -> dict:
    row = Open311Token.objects.filter(token=token.strip().lower()).values_list("token", "appeal__number").first()
    if row is None:
        raise NotFound("unknown_token", _("未知的 token：%(token)s") % {"token": token})
    return {"service_request_id": row[1], "token": row[0]}
