"""The one public view of an appeal: what anyone, signed in or not, may read about it.

The public page (/appeals/public/…), the public JSON API (/api/v1/public/appeals…) and Open311 all
read appeals through `public_appeal()` and nothing else, so what is not in it cannot leak:
- no reporter identity: the querysets do not even load the reporter's encrypted or masked fields,
  the rating's comment or the idempotency key, and the view has no field for them;
- no staff names: events are read without their actor; organisations (departments summoned by a
  whistle, the unit responsible) are named, people never are;
- free text typed by people (title, description, the result note, a rejection reason) goes through
  core.pii.mask_public_text, the one rule of every public output; the staff's own internal notes
  (why it was handed on, an acceptance note, a closing note) are not shown at all;
- the location is the centre of the appeal's micro grid, never the point the reporter placed;
- photos are not part of it: a photo of a doorway, a car's plate or a face is personal data that no
  rule can mask, so photos stay with the reporter and the staff in scope (Open311 links to the
  access-checked photo route only).
An appeal marked anonymous is public like any other (anonymous hides the reporter, which the public
view never shows anyway). There is no "private" flag on appeals.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import shapely.geometry
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.core import pii
from gongzhi.core.errors import NotFound, ValidationFailed

from .models import Appeal, AppealEvent, AppealPhoto, Category, Level, Satisfaction, State
from .workflow import ACTION_LABELS, SweepAction

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# GeoReport has two statuses. Ours map onto them: closed once a result exists or the appeal ended.
CLOSED_STATES = frozenset({State.RESOLVED, State.RATED, State.CLOSED, State.REJECTED, State.MERGED})
OPEN, CLOSED = "open", "closed"

# Work orders that no longer count toward the result (returned, cancelled): not "responsible".
_DROPPED_WORK_ORDER_STATES = frozenset({"returned", "cancelled"})

# Never read from the database for a public view (nor for the appeal it was merged into).
NEVER_LOADED = ("reporter_name_enc", "reporter_name_masked", "reporter_phone_enc", "reporter_phone_hash",
                "reporter_phone_masked", "rating_comment", "idempotency_key")


def status_of(state: str) -> str:
    return CLOSED if state in CLOSED_STATES else OPEN


def mask_text(text: str) -> str:
    """Phone and ID numbers typed into the text are masked as in every public output (core.pii)."""
    return pii.mask_public_text(text or "")


# ---- the location: the micro grid's centre ----

_centroids: dict[tuple[int, str], tuple[float, float]] = {}


def grid_centroid(grid) -> tuple[float, float]:
    """(lon, lat) of the micro grid's centroid, or a point surely inside it if the grid is concave."""
    key = (grid.pk, grid.updated_at.isoformat() if grid.updated_at else "")
    hit = _centroids.get(key)
    if hit is None:
        shape = shapely.geometry.shape(grid.geometry)
        point = shape.centroid
        if not shape.contains(point):
            point = shape.representative_point()
        hit = (round(point.x, 6), round(point.y, 6))
        if len(_centroids) > 100_000:
            _centroids.clear()
        _centroids[key] = hit
    return hit


# ---- words ----

@lru_cache(maxsize=8)
def _labels(language: str) -> dict:
    """The strings every appeal uses, translated once per language (not a dozen lookups a row)."""
    return {
        "state": {s.value: str(s.label) for s in State},
        "level": {lv.value: str(lv.label) for lv in Level},
        "satisfaction": {s.value: str(s.label) for s in Satisfaction},
        "rejected": _("%(state)s。理由：%(reason)s；建议反映渠道：%(where)s"),
        "merged": _("%(state)s：与诉求 %(number)s 重复，已并入该诉求办理。"),
        "overdue": _("%(state)s（已超期）"),
        "agency": _("%(level)s：%(unit)s"),
        "departments": _("职能部门：%(names)s"),
    }


def _t() -> dict:
    return _labels(translation.get_language() or "")


def is_overdue(appeal, now=None) -> bool:
    return (appeal.state not in CLOSED_STATES and bool(appeal.step_due)
            and appeal.step_due < (now or timezone.now()))


def status_notes(appeal, now=None) -> str:
    t = _t()
    label = t["state"].get(appeal.state, appeal.state)
    if appeal.state == State.REJECTED:
        # The reason is typed about the appeal and may quote the reporter: masked. Where to turn is an
        # office's public contact, kept whole so that the resident can call it.
        return t["rejected"] % {"state": label, "reason": mask_text(appeal.reject_reason),
                                "where": appeal.redirect_to}
    if appeal.state == State.MERGED and appeal.merged_into_id:
        return t["merged"] % {"state": label, "number": appeal.merged_into.number}
    if is_overdue(appeal, now):
        return t["overdue"] % {"state": label}
    return label


def departments_of(appeal) -> list[str]:
    """Organisations summoned by a whistle whose work orders still count."""
    orders = getattr(appeal, "work_orders", None)
    if orders is None:
        return []
    return sorted({wo.assignee.name for wo in orders.all() if wo.state not in _DROPPED_WORK_ORDER_STATES})


def agency_responsible(appeal) -> str:
    t = _t()
    level = appeal.owner_level
    if level == Level.GRID:
        unit = appeal.grid.name
    elif level == Level.STREET:
        unit = appeal.community.parent.name if appeal.community.parent_id else appeal.community.name
    else:
        unit = appeal.community.name
    parts = [t["agency"] % {"level": t["level"].get(level, level), "unit": unit}]
    departments = departments_of(appeal)
    if departments:
        parts.append(t["departments"] % {"names": "、".join(departments)})
    return "；".join(parts)


# ---- the timeline as the public reads it ----

# The steps shown, each with what of its data may be said. Anything else on the timeline (photos,
# deadline warnings, a department's own work-order steps, internal notes) is not public.
_LEVEL_STEPS = {"hand_on", "hand_back", SweepAction.ESCALATE}
PUBLIC_ACTIONS = frozenset({"submit", "accept", "whistle", "resolve", "orders_resolved", "back_to_street", "rate",
                            "reject", "merge", "merged_in", "close", SweepAction.AUTO_CLOSE, *_LEVEL_STEPS})


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str
    label: str
    detail: str = ""


def _step_label(action: str) -> str:
    if action == "merged_in":
        return _("并入重复诉求")
    return str(ACTION_LABELS.get(action) or action)  # the sweep's labels are in ACTION_LABELS too


def _step_detail(action: str, data: dict, note: str) -> str:
    t = _t()
    if action in _LEVEL_STEPS:
        a, b = t["level"].get(data.get("from_level"), ""), t["level"].get(data.get("to_level"), "")
        return f"{a} → {b}" if a and b else ""
    if action == "accept":
        level = t["level"].get(data.get("owner_level"), "")
        return _("办理层级：%(level)s") % {"level": level} if level else ""
    if action == "whistle":
        names = [str(n) for n in data.get("organizations") or []]
        return _("召集：%(names)s") % {"names": "、".join(names)} if names else ""
    if action == "resolve":
        return mask_text(note)
    if action == "rate":
        resolved = _("已解决") if data.get("resolved") else _("未解决")
        satisfaction = t["satisfaction"].get(data.get("satisfaction"), "")
        out = f"{resolved} · {satisfaction}" if satisfaction else str(resolved)
        return out + ("；" + _("重新办理") if data.get("reopen") else "")
    if action == "reject":
        return _("理由：%(reason)s；建议反映渠道：%(where)s") % {
            "reason": mask_text(data.get("reason") or note), "where": data.get("redirect_to") or ""}
    if action == "merge" and data.get("into"):
        return _("并入诉求 %(number)s") % {"number": data["into"]}
    if action == "merged_in" and data.get("from"):
        return _("诉求 %(number)s 并入本条") % {"number": data["from"]}
    return ""


def public_steps(appeal) -> tuple[PublicStep, ...]:
    """The public steps of the appeal's timeline, oldest first; events are read without their actor."""
    rows = (AppealEvent.objects.filter(appeal_id=appeal.pk, action__in=PUBLIC_ACTIONS)
            .order_by("at", "id").values_list("at", "action", "data", "note"))
    return tuple(PublicStep(at=at, action=action, label=_step_label(action),
                            detail=_step_detail(action, data or {}, note or ""))
                 for at, action, data, note in rows)


# ---- the view ----

@dataclass(frozen=True)
class PublicAppeal:
    number: str
    title: str
    text: str
    category_code: str
    category_name: str
    state: str
    state_label: str
    status: str
    status_notes: str
    overdue: bool
    grid_code: str
    grid_name: str
    community_code: str
    community_name: str
    lon: float
    lat: float
    submitted_at: dt.datetime
    updated_at: dt.datetime
    expected_at: dt.datetime | None
    agency_responsible: str
    departments: tuple[str, ...]
    rating: dict | None
    reject_reason: str
    redirect_to: str
    merged_into: str | None
    steps: tuple[PublicStep, ...] = field(default=())

    def as_dict(self) -> dict:
        """The JSON shape (datetimes as ISO 8601 in Asia/Shanghai)."""
        out = asdict(self)
        for key in ("submitted_at", "updated_at", "expected_at"):
            out[key] = _iso(out[key])
        out["departments"] = list(self.departments)
        out["steps"] = [{**s, "at": _iso(s["at"])} for s in out["steps"]]
        return out


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def public_appeal(appeal, *, with_steps=False) -> PublicAppeal:
    """The public view of an appeal loaded by `public_queryset()` (or any appeal with its relations)."""
    t = _t()
    lon, lat = grid_centroid(appeal.grid)
    rating = None
    if appeal.satisfaction in Satisfaction.values:
        rating = {"resolved": appeal.rating_resolved, "satisfaction": appeal.satisfaction,
                  "satisfaction_label": t["satisfaction"][appeal.satisfaction]}
    rejected = appeal.state == State.REJECTED
    return PublicAppeal(
        number=appeal.number,
        title=mask_text(appeal.title),
        text=mask_text(appeal.text),
        category_code=appeal.category.code,
        category_name=appeal.category.label,
        state=appeal.state,
        state_label=t["state"].get(appeal.state, appeal.state),
        status=status_of(appeal.state),
        status_notes=status_notes(appeal),
        overdue=is_overdue(appeal),
        grid_code=appeal.grid.code,
        grid_name=appeal.grid.name,
        community_code=appeal.community.code,
        community_name=appeal.community.name,
        lon=lon,
        lat=lat,
        submitted_at=appeal.submitted_at,
        updated_at=appeal.updated_at,
        expected_at=appeal.resolve_due,
        agency_responsible=agency_responsible(appeal),
        departments=tuple(departments_of(appeal)),
        rating=rating,
        reject_reason=mask_text(appeal.reject_reason) if rejected else "",
        redirect_to=appeal.redirect_to if rejected else "",
        merged_into=appeal.merged_into.number if appeal.merged_into_id else None,
        steps=public_steps(appeal) if with_steps else (),
    )


# ---- reads ----

def public_queryset():
    """Appeals with what the public view needs, a fixed number of queries a page; nothing personal loaded."""
    qs = (Appeal.objects.select_related("category", "grid", "community__parent", "merged_into")
          .defer(*NEVER_LOADED, *(f"merged_into__{f}" for f in NEVER_LOADED))
          .prefetch_related(Prefetch("photos", queryset=AppealPhoto.objects.only("id", "appeal_id").order_by("id")),
                            "work_orders__assignee"))
    return qs


_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


def public_get(number: str):
    """The appeal numbered `number` (any case, spaces around ignored), or NotFound."""
    number = (number or "").strip().upper()
    known = 0 < len(number) <= 20 and _TOKEN.fullmatch(number)  # (a NUL byte never reaches SQL)
    appeal = public_queryset().filter(number=number).first() if known else None
    if appeal is None:
        raise NotFound("unknown_appeal", _("未找到诉求：%(number)s") % {"number": number[:20].replace("\x00", "")})
    return appeal


@dataclass(frozen=True)
class ListQuery:
    community: object = None  # a Place of kind community, or None for every community
    category: Category | None = None
    state: str = ""  # open, closed or one of State's values; "" for all
    after: int | None = None  # the id of the last appeal of the previous page
    limit: int = PAGE_SIZE

    def params(self, **change) -> dict:
        """The query string of this list (for links): only what is set."""
        out = {"community": self.community.code if self.community else "",
               "category": self.category.code if self.category else "", "state": self.state}
        out.update(change)
        return {k: v for k, v in out.items() if v}


def _one(params, name: str, max_len: int) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > max_len:
        raise ValidationFailed(f"bad_{name}", _("参数 %(name)s 过长。") % {"name": name})
    if not _TOKEN.fullmatch(value):  # codes, numbers and states are ASCII words (a NUL byte never reaches SQL)
        raise ValidationFailed(f"bad_{name}", _("参数 %(name)s 只能包含字母、数字、下划线和连字符。") % {"name": name})
    return value


def parse_list_query(params, *, default_limit=PAGE_SIZE) -> ListQuery:
    """The list's filters from a query string; anything unknown is a 400 with a clear message."""
    from gongzhi.places.models import Place, PlaceKind

    community = None
    code = _one(params, "community", 24)
    if code:
        community = Place.objects.filter(code=code, kind=PlaceKind.COMMUNITY).first()
        if community is None:
            raise ValidationFailed("unknown_community", _("未知的社区编码：%(code)s") % {"code": code})
    category = None
    code = _one(params, "category", 40)
    if code:
        category = Category.objects.filter(code=code).first()
        if category is None:
            raise ValidationFailed("unknown_category", _("未知的诉求分类：%(code)s") % {"code": code})
    state = _one(params, "state", 16).lower()
    if state and state not in (OPEN, CLOSED, *State.values):
        raise ValidationFailed("bad_state", _("state 只能是 open、closed 或某个诉求状态：%(value)s") % {"value": state})
    after = None
    number = _one(params, "after", 20).upper()
    if number:
        after = Appeal.objects.filter(number=number).values_list("pk", flat=True).first()
        if after is None:
            raise ValidationFailed("bad_after", _("after 须是上一页最后一条诉求的编号：%(value)s") % {"value": number})
    raw = _one(params, "limit", 4)
    limit = default_limit
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise ValidationFailed("bad_limit", _("limit 须是 1 到 %(n)d 之间的整数。") % {"n": MAX_PAGE_SIZE})
        limit = int(raw)
    return ListQuery(community=community, category=category, state=state, after=after, limit=limit)


def public_page(q: ListQuery) -> tuple[list[PublicAppeal], str | None]:
    """One page of the list, newest first (keyset on id): the views and the number to ask `after` next."""
    qs = public_queryset()
    if q.community is not None:
        qs = qs.filter(community=q.community)
    if q.category is not None:
        qs = qs.filter(category=q.category)
    if q.state == OPEN:
        qs = qs.exclude(state__in=CLOSED_STATES)
    elif q.state == CLOSED:
        qs = qs.filter(state__in=CLOSED_STATES)
    elif q.state:
        qs = qs.filter(state=q.state)
    if q.after is not None:
        qs = qs.filter(pk__lt=q.after)
    rows = list(qs.order_by("-id")[:q.limit + 1])
    more = len(rows) > q.limit
    rows = rows[:q.limit]
    return [public_appeal(a) for a in rows], (rows[-1].number if more else None)
