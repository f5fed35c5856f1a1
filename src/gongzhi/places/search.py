"""Place search: one service for the maps' search boxes, the staff entry's address field and the API.

`search_places(q=…)` finds communities, compounds, buildings (the place tree) and the landmarks staff
register, by name, full pinyin or pinyin initials (core.search keys, as org.search does): "大修厂小区",
"daxiuchang" and "dxcxq" all find 大修厂小区. Each result says what it is, where it is (community,
street) and where to fly to. Places are not personal data: anyone may search the whole city.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.search import QUERY_MAX, query_terms, ranked

from .models import Landmark, Place, PlaceKind

PLACE_KINDS = ("community", "compound", "building")
KINDS = (*PLACE_KINDS, "landmark")
# Among equally good matches: communities, then compounds and landmarks, then buildings.
KIND_ORDER = {"community": 0, "compound": 1, "landmark": 1, "building": 2}
LIMIT_DEFAULT, LIMIT_MAX, OFFSET_MAX = 20, 50, 1000


def _bad(code, message, field):
    return ValidationFailed(code, message, {"field": field})


def _int(value, default, field, low, high, message):
    if value in (None, ""):
        return default
    raw = str(value).strip()
    if not raw.isdigit() or len(raw) > 6 or not low <= int(raw) <= high:
        raise _bad("bad_" + field, message, field)
    return int(raw)


def check(*, q="", kinds=None, community=None, limit=None, offset=None):
    if q is not None and len(q) > QUERY_MAX:
        raise _bad("query_too_long", _("搜索词最多 %(max)d 个字。") % {"max": QUERY_MAX}, "q")
    limit = _int(limit, LIMIT_DEFAULT, "limit", 1, LIMIT_MAX,
                 _("每次最多返回 %(max)d 条，limit 应在 1 到 %(max)d 之间。") % {"max": LIMIT_MAX})
    offset = _int(offset, 0, "offset", 0, OFFSET_MAX,
                  _("offset 应在 0 到 %(max)d 之间；请输入更具体的搜索词。") % {"max": OFFSET_MAX})
    if isinstance(kinds, str):
        kinds = [k for k in kinds.split(",") if k.strip()]
    kinds = [k.strip() for k in (kinds or KINDS)]
    wrong = [k for k in kinds if k not in KINDS]
    if wrong:
        raise _bad("bad_kind", _("未知的地点类型：%(k)s（可选：%(all)s）。") % {
            "k": "、".join(wrong)[:60], "all": "、".join(KINDS)}, "kind")
    place = None
    if community not in (None, ""):
        raw = str(community).strip()
        place = (Place.objects.filter(pk=int(raw), kind=PlaceKind.COMMUNITY).first()
                 if raw.isdigit() and len(raw) <= 15 else None)
        if place is None:
            raise _bad("bad_community", _("社区 %(c)s 不存在。") % {"c": raw[:20]}, "community")
    return kinds, place, limit, offset


def _community_of(place: Place) -> Place | None:
    p = place
    while p is not None and p.kind not in (PlaceKind.COMMUNITY, PlaceKind.STREET):
        p = p.parent
    return p if p is not None and p.kind == PlaceKind.COMMUNITY else None


def _where(community: Place | None) -> list[str]:
    if community is None:
        return []
    street = community.parent.name if community.parent_id else ""
    return [community.name, street]


def _join(parts) -> str:
    return " · ".join(str(p) for p in parts if p)


def describe(row) -> dict:
    if isinstance(row, Landmark):
        c = row.community
        kind = pgettext("place kind", "地标")
        return {"kind": "landmark", "id": row.pk, "label": row.name, "kind_label": kind,
                "detail": _join([kind, *_where(c)]), "note": row.note,
                "lon": row.lon, "lat": row.lat, "community_id": c.pk}
    c = _community_of(row)
    where = [c.name if c and c.pk != row.pk else "", (c.parent.name if c and c.parent_id else "")]
    if row.kind == PlaceKind.BUILDING and row.parent_id:
        where.insert(0, row.parent.name)  # the compound
    return {"kind": row.kind, "id": row.pk, "label": row.name, "kind_label": str(row.get_kind_display()),
            "detail": _join([row.get_kind_display(), *where]), "note": "",
            "lon": row.lon, "lat": row.lat, "community_id": c.pk if c else None}


def search_places(*, q: str = "", kinds=None, community=None, limit=None, offset=None) -> dict:
    """Places and landmarks matching `q` (every term in the name, its pinyin or initials), best first:
    whole-name and name-start matches, then by kind and shorter names. `community` (an id) keeps
    those inside one community; `kinds` a subset of KINDS. Paged by `limit` and `offset`; `next` is
    the offset of the next page, or None."""
    kinds, place, limit, offset = check(q=q, kinds=kinds, community=community, limit=limit, offset=offset)
    terms = query_terms(q or "")
    upto = offset + limit + 1
    rows = []
    place_kinds = [k for k in kinds if k in PLACE_KINDS]
    if place_kinds:
        qs = (Place.objects.filter(kind__in=place_kinds, lon__isnull=False, lat__isnull=False)
              .select_related("parent__parent__parent"))
        if place is not None:
            qs = qs.filter(path__startswith=place.path)
        rows += ranked(qs, terms, upto, then_by=Case(
            *[When(kind=k, then=Value(KIND_ORDER[k])) for k in PLACE_KINDS], output_field=IntegerField()))
    if "landmark" in kinds:
        qs = Landmark.objects.select_related("community__parent")
        if place is not None:
            qs = qs.filter(community=place)
        rows += ranked(qs, terms, upto, then_by=Value(KIND_ORDER["landmark"], output_field=IntegerField()))
    kind_of = lambda r: "landmark" if isinstance(r, Landmark) else r.kind  # noqa: E731
    rows.sort(key=lambda r: (r._rank, r._then, r._len, r.name, kind_of(r), r.pk))
    page = rows[offset:offset + limit]
    more = len(rows) > offset + limit
    return {"results": [describe(r) for r in page], "offset": offset, "limit": limit,
            "next": offset + limit if more else None}
