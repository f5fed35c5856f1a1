"""Grid import and export as GeoJSON FeatureCollections: validate a whole file, then write all or nothing.

Validation collects every problem in the file, each naming the feature, the line it starts on
and its grid code, so an operator fixes a file in one pass instead of one error per upload.
The geometric checks (child inside parent, siblings not overlapping) run on the state the
database would have after the import: the file's grids override the stored ones with the same
code, and the stored parents, siblings and children around them take part. Pairs are found with
a shapely STRtree and measured with vectorized shapely calls, so a city file of thousands of
grids validates in seconds.

The export writes one feature per line, sorted by code, with a fixed key order and coordinates
as floats, so export → import → export is byte-identical and line numbers in problems point at
the feature an operator edited.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gongzhi.core import audit, geo, scopes
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.search import search_key

from . import selectors
from .models import GRID_PARENT_LEVEL, Grid, GridLevel, Place, PlaceKind
from .services import next_grid_code

CODE_RE = re.compile(r"^\d{15}$")
# Metres per degree of latitude on the WGS84 mean sphere; a degree of longitude is this × cos(lat).
M_PER_DEG = 6371008.8 * math.pi / 180
LEVEL_ORDER = {GridLevel.COMMUNITY: 0, GridLevel.AREA: 1, GridLevel.MICRO: 2}
_CHUNK = 500  # ids per IN (...) query: stays under every backend's parameter limit
_WS = re.compile(r"[ \t\n\r]*")


# ---- results ----


@dataclass
class Problem:
    """One thing wrong with the file; `index` is the 1-based feature number (None: the whole file)."""

    message: str
    line: int | None = None
    index: int | None = None
    code: str = ""

    def __str__(self) -> str:
        if self.index is None:
            if self.line is None:
                return self.message
            return _("第 %(line)d 行：%(message)s") % {"line": self.line, "message": self.message}
        if self.code:
            return _("第 %(line)d 行，第 %(index)d 个要素（网格编码 %(code)s）：%(message)s") % {
                "line": self.line,
                "index": self.index,
                "code": self.code,
                "message": self.message,
            }
        return _("第 %(line)d 行，第 %(index)d 个要素：%(message)s") % {
            "line": self.line,
            "index": self.index,
            "message": self.message,
        }


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    features: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


# ---- parsing ----


@dataclass
class RawFeature:
    index: int  # 1-based
    line: int  # 1-based line where the feature object starts
    data: object


def _json_error_message(exc: json.JSONDecodeError) -> str:
    reasons = {
        "Expecting value": _("缺少值"),
        "Expecting ',' delimiter": _("缺少逗号"),
        "Expecting ':' delimiter": _("缺少冒号"),
        "Expecting property name enclosed in double quotes": _("属性名必须用英文双引号括起来"),
        "Unterminated string starting at": _("字符串没有结束的引号"),
        "Invalid control character at": _("字符串中有不允许的控制字符"),
        "Invalid \\escape": _("无效的转义字符"),
        "Extra data": _("JSON 结束后还有多余的内容"),
    }
    reason = reasons.get(exc.msg, exc.msg)
    # The line is the problem's own line; the column pins it down within that line.
    return _("不是有效的 JSON（第 %(col)d 列）：%(reason)s。") % {"col": exc.colno, "reason": reason}


def _feature_offsets(text: str, start: int) -> list[int]:
    """Character offsets where each element of the top-level "features" array starts.

    `text` is already known to be valid JSON with an object at the top, so this walk only skips
    values with raw_decode and never has to report syntax errors itself.
    """
    dec = json.JSONDecoder()
    offsets: list[int] = []
    i = _WS.match(text, start + 1).end()
    if text[i] == "}":
        return offsets
    while True:
        key, i = dec.raw_decode(text, i)
        i = _WS.match(text, i).end() + 1  # the colon
        i = _WS.match(text, i).end()
        if key == "features" and text[i] == "[":
            offsets = []
            i = _WS.match(text, i + 1).end()
            if text[i] == "]":
                i += 1
            else:
                while True:
                    offsets.append(i)
                    _value, i = dec.raw_decode(text, i)
                    i = _WS.match(text, i).end()
                    c = text[i]
                    i = _WS.match(text, i + 1).end()
                    if c == "]":
                        break
        else:
            _value, i = dec.raw_decode(text, i)
        i = _WS.match(text, i).end()
        c = text[i]
        i = _WS.match(text, i + 1).end()
        if c == "}":
            return offsets


def parse_feature_collection(text: str | bytes) -> tuple[list[RawFeature], list[Problem]]:
    """The features of a FeatureCollection with their line numbers, or the problems of the file."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            return [], [Problem(_("文件不是 UTF-8 编码，请另存为 UTF-8 后再导入。"), line=line)]
    elif text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return [], [Problem(_("文件是空的。"), line=1)]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(_json_error_message(exc), line=exc.lineno)]
    except RecursionError:
        return [], [Problem(_("不是有效的 JSON：嵌套层数过多。"), line=1)]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return [], [
            Problem(
                _(
                    '文件不是 GeoJSON FeatureCollection（顶层应为 {"type": "FeatureCollection", "features": [...]}）。'
                ),
                line=1,
            )
        ]
    features = doc.get("features")
    if not isinstance(features, list):
        return [], [Problem(_("FeatureCollection 缺少 features 数组。"), line=1)]
    start = _WS.match(text, 0).end()
    offsets = _feature_offsets(text, start)
    out = []
    line, pos = 1, 0
    for n, (off, data) in enumerate(zip(offsets, features, strict=True), start=1):
        line += text.count("\n", pos, off)
        pos = off
        out.append(RawFeature(n, line, data))
    return out, []


# ---- geometry ----


def normalize_geometry(geometry: dict) -> dict:
    """{"type", "coordinates"} only, every position as [float lon, float lat]: one spelling per shape."""

    def ring(r):
        return [[float(p[0]), float(p[1])] for p in r]

    gtype, coords = geometry.get("type"), geometry.get("coordinates")
    try:
        if gtype == "Polygon":
            coords = [ring(r) for r in coords]
        elif gtype == "MultiPolygon":
            coords = [[ring(r) for r in poly] for poly in coords]
    except (TypeError, IndexError, ValueError):
        pass  # a stored shape we never wrote: passed through as it is, never "fixed" silently
    return {"type": gtype, "coordinates": coords}


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _validity_reason(reason: str) -> str:
    """GEOS's English reason for an invalid polygon, in the user's language."""
    reasons = {
        "Self-intersection": _("自相交"),
        "Ring Self-intersection": _("环自相交"),
        "Too few points": _("点数太少"),
        "Hole lies outside shell": _("内环（洞）在外环之外"),
        "Holes are nested": _("内环相互嵌套"),
        "Interior is disconnected": _("内部不连通"),
        "Nested shells": _("多个外环相互嵌套"),
        "Duplicate Rings": _("有重复的环"),
        "Invalid Coordinate": _("坐标无效"),
        "Ring is not closed": _("环未闭合"),
    }
    return reasons.get(reason, reason)


def _geometry_problems(geometry) -> list[str]:
    """Structural checks a human can act on; an empty list means shapely can read it."""
    if not isinstance(geometry, dict):
        return [_("缺少几何（geometry）。")]
    gtype = geometry.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        return [_("几何类型必须是 Polygon 或 MultiPolygon，而不是 %(type)s。") % {"type": gtype}]
    coords = geometry.get("coordinates")
    polys = [coords] if gtype == "Polygon" else coords
    if not isinstance(polys, list) or not polys or not all(isinstance(p, list) and p for p in polys):
        return [_("坐标（coordinates）格式不正确：%(type)s 需要由环组成的数组。") % {"type": gtype}]
    problems = []
    for pi, rings in enumerate(polys, start=1):
        for ri, r in enumerate(rings, start=1):
            where = (
                _("第 %(ring)d 个环") % {"ring": ri}
                if gtype == "Polygon"
                else _("第 %(poly)d 个多边形的第 %(ring)d 个环") % {"poly": pi, "ring": ri}
            )
            if not isinstance(r, list) or not all(
                isinstance(p, list) and len(p) in (2, 3) and all(_is_number(v) for v in p) for p in r
            ):
                problems.append(_("%(where)s的坐标格式不正确：每个点应为 [经度, 纬度]。") % {"where": where})
                continue
            bad = next(
                (
                    p
                    for p in r
                    if not (
                        math.isfinite(p[0])
                        and math.isfinite(p[1])
                        and -180 <= p[0] <= 180
                        and -90 <= p[1] <= 90
                    )
                ),
                None,
            )
            if bad is not None:
                problems.append(
                    _(
                        "%(where)s有坐标超出 WGS84 范围：(%(x)s, %(y)s)；经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间。"
                    )
                    % {"where": where, "x": bad[0], "y": bad[1]}
                )
                continue
            if len(r) < 4:
                problems.append(
                    _("%(where)s只有 %(n)d 个点，至少需要 4 个（首点与末点相同）。")
                    % {"where": where, "n": len(r)}
                )
            elif r[0][:2] != r[-1][:2]:
                problems.append(
                    _("多边形未闭合：%(where)s的首点 (%(x0)s, %(y0)s) 与末点 (%(x1)s, %(y1)s) 不同。")
                    % {"where": where, "x0": r[0][0], "y0": r[0][1], "x1": r[-1][0], "y1": r[-1][1]}
                )
    return problems


def _validity_problem(geom) -> str | None:
    if shapely.is_valid(geom):
        if geom.area <= 0:
            return _("多边形无效：面积为零。")
        return None
    reason = shapely.is_valid_reason(geom)
    m = re.match(r"^(.*?)\s*\[([-\d.eE+]+)\s+([-\d.eE+]+)\]$", reason)
    if m:
        return _("多边形无效：%(reason)s（位置 %(x)s, %(y)s）。") % {
            "reason": _validity_reason(m.group(1)),
            "x": m.group(2),
            "y": m.group(3),
        }
    return _("多边形无效：%(reason)s。") % {"reason": _validity_reason(reason)}


def m2_per_deg2(lat) -> np.ndarray | float:
    """Square metres in one square degree at a latitude (equirectangular: fine for grid-sized areas)."""
    return M_PER_DEG * M_PER_DEG * np.cos(np.radians(lat))


def _areas_m2(geoms: np.ndarray) -> np.ndarray:
    if len(geoms) == 0:
        return np.zeros(0)
    b = shapely.bounds(geoms)
    lat = np.nan_to_num((b[:, 1] + b[:, 3]) / 2)
    return shapely.area(geoms) * m2_per_deg2(lat)


# ---- validation ----


@dataclass
class _Row:
    """One feature of the file as validation sees it."""

    index: int
    line: int
    code: str = ""  # as given; "" when the grid is new and gets its code on import
    name: str = ""
    level: str = ""
    parent_code: str = ""
    community_code: str = ""
    geometry: dict | None = None
    geom: object = None  # shapely geometry, only when valid
    community: Place | None = None
    existing: dict | None = None  # the stored grid with this code
    parent: object = None  # a _Row or a stored grid dict
    problems: list[str] = field(default_factory=list)
    resolving: bool = False
    resolved: bool = False


_GRID_FIELDS = (
    "id",
    "code",
    "name",
    "level",
    "community_id",
    "parent_id",
    "parent__code",
    "path",
    "geometry",
    "retired_at",
)


def _load_grids(lookup: str, values) -> list[dict]:
    values = sorted(set(values))
    out = []
    for i in range(0, len(values), _CHUNK):
        out.extend(Grid.objects.filter(**{lookup: values[i : i + _CHUNK]}).values(*_GRID_FIELDS))
    return out


def _stored_shape(geometry):
    """A stored boundary as shapely, or None if it is unusable (old data is checked, never trusted)."""
    try:
        geom = shape(geometry)
    except Exception:  # any malformed stored JSON: skip it rather than fail the import
        return None
    return geom if shapely.is_valid(geom) else None


def _str_prop(props: dict, key: str) -> str:
    v = props.get(key)
    if v is None:
        return ""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v.strip() if isinstance(v, str) else str(v)


def _read_rows(raw: list[RawFeature]) -> list[_Row]:
    rows = []
    for f in raw:
        row = _Row(f.index, f.line)
        rows.append(row)
        if not isinstance(f.data, dict) or f.data.get("type") != "Feature":
            row.problems.append(_('不是 GeoJSON 要素（type 应为 "Feature"）。'))
            continue
        props = f.data.get("properties")
        if not isinstance(props, dict):
            row.problems.append(_("缺少属性（properties）对象。"))
            props = {}
        row.code = _str_prop(props, "code")
        row.name = _str_prop(props, "name")
        row.level = _str_prop(props, "level")
        row.parent_code = _str_prop(props, "parent_code")
        row.community_code = _str_prop(props, "community_code")
        if not row.name:
            row.problems.append(_("缺少网格名称（name）。"))
        elif len(row.name) > Grid._meta.get_field("name").max_length:
            row.problems.append(
                _("网格名称太长（最多 %(n)d 个字）。") % {"n": Grid._meta.get_field("name").max_length}
            )
        if row.level not in GridLevel.values:
            row.problems.append(
                _(
                    "网格层级“%(level)s”无效，只能是 community（总网格）、area（片区网格）、micro（微网格）之一。"
                )
                % {"level": row.level}
            )
        if row.code and not CODE_RE.match(row.code):
            row.problems.append(
                _("网格编码 %(code)s 格式不正确：必须是 15 位数字（12 位社区区划代码 + 3 位序号）。")
                % {"code": row.code}
            )
        geometry = f.data.get("geometry")
        gproblems = _geometry_problems(geometry)
        if gproblems:
            row.problems.extend(gproblems)
            continue
        row.geometry = normalize_geometry(geometry)
        geom = shape(row.geometry)
        bad = _validity_problem(geom)
        if bad:
            row.problems.append(bad)
        else:
            row.geom = geom
    return rows


class _Validator:
    def __init__(self, rows: list[_Row], actor):
        self.rows = rows
        self.actor = actor
        self.tol = float(settings.GRID_OVERLAP_TOLERANCE_M2)
        self.by_code: dict[str, _Row] = {}
        self.stored: dict[str, dict] = {}
        self.places: dict[str, Place] = {}
        self.places_by_id: dict[int, Place] = {}

    def run(self) -> None:
        self._check_duplicates()
        self._load()
        for row in self.rows:
            self._resolve(row)
        for row in self.rows:
            self._check_code(row)
        self._check_geometry()

    def _check_duplicates(self) -> None:
        for row in self.rows:
            if not row.code or not CODE_RE.match(row.code):
                continue
            first = self.by_code.get(row.code)
            if first is None:
                self.by_code[row.code] = row
            else:
                row.problems.append(
                    _("网格编码在文件中重复：与第 %(line)d 行的第 %(index)d 个要素相同。")
                    % {"line": first.line, "index": first.index}
                )

    def _load(self) -> None:
        codes = {r.code for r in self.rows if r.code} | {r.parent_code for r in self.rows if r.parent_code}
        self.stored = {g["code"]: g for g in _load_grids("code__in", codes)}
        place_codes = {r.community_code for r in self.rows if r.community_code}
        place_ids = {g["community_id"] for g in self.stored.values()}
        places = []
        for i in range(0, len(place_codes), _CHUNK):
            places.extend(Place.objects.filter(code__in=sorted(place_codes)[i : i + _CHUNK]))
        missing_ids = sorted(place_ids - {p.pk for p in places})
        for i in range(0, len(missing_ids), _CHUNK):
            places.extend(Place.objects.filter(pk__in=missing_ids[i : i + _CHUNK]))
        self.places = {p.code: p for p in places}
        self.places_by_id = {p.pk: p for p in places}

    def _community_place(self, row: _Row, code: str) -> Place | None:
        place = self.places.get(code)
        if place is None:
            row.problems.append(_("社区区划代码 %(code)s 不存在。") % {"code": code})
            return None
        if place.kind != PlaceKind.COMMUNITY:
            row.problems.append(
                _("区划代码 %(code)s 是%(kind)s“%(name)s”，不是社区。")
                % {"code": code, "kind": PlaceKind(place.kind).label, "name": place.name}
            )
            return None
        return place

    def _resolve(self, row: _Row) -> Place | None:
        """Find the row's parent and community (the community comes from the parent for area and micro)."""
        if row.resolved or row.resolving:
            return row.community
        row.resolving = True
        try:
            row.community = self._resolve_inner(row)
        finally:
            row.resolving = False
            row.resolved = True
        return row.community

    def _resolve_inner(self, row: _Row) -> Place | None:
        if row.level not in GridLevel.values:
            return self._community_place(row, row.community_code) if row.community_code else None
        if row.level == GridLevel.COMMUNITY:
            if row.parent_code:
                row.problems.append(_("总网格不能有上级网格（parent_code 应为空）。"))
            if not row.community_code:
                row.problems.append(_("总网格必须填写所属社区的区划代码（community_code）。"))
                return None
            return self._community_place(row, row.community_code)
        level_label = GridLevel(row.level).label
        expected = GRID_PARENT_LEVEL[row.level]
        if not row.parent_code:
            row.problems.append(_("%(level)s必须填写上级网格编码（parent_code）。") % {"level": level_label})
            return None
        parent = self.by_code.get(row.parent_code)
        if parent is not None:
            parent_level, community = parent.level, self._resolve(parent)
        else:
            stored = self.stored.get(row.parent_code)
            if stored is None:
                row.problems.append(
                    _("上级网格 %(code)s 不存在：数据库和文件中都没有这个编码。") % {"code": row.parent_code}
                )
                return None
            if stored["retired_at"] is not None:
                row.problems.append(_("上级网格 %(code)s 已停用。") % {"code": row.parent_code})
                return None
            parent = stored
            parent_level, community = stored["level"], self.places_by_id.get(stored["community_id"])
        if parent_level != expected:
            actual = GridLevel(parent_level).label if parent_level in GridLevel.values else parent_level
            row.problems.append(
                _("上级网格 %(code)s 是%(actual)s，%(level)s的上级必须是%(expected)s。")
                % {
                    "code": row.parent_code,
                    "actual": actual,
                    "level": level_label,
                    "expected": GridLevel(expected).label,
                }
            )
            return None
        row.parent = parent
        if community is not None and row.community_code and row.community_code != community.code:
            row.problems.append(
                _("社区区划代码 %(given)s 与上级网格 %(parent)s 所属社区 %(derived)s 不一致。")
                % {"given": row.community_code, "parent": row.parent_code, "derived": community.code}
            )
        return community

    def _check_code(self, row: _Row) -> None:
        community = row.community
        if community is None:
            return
        if self.actor is not None and not scopes.can(self.actor, "grid.import", community):
            row.problems.append(
                _("您没有权限导入社区“%(name)s”（%(code)s）的网格。")
                % {"name": community.name, "code": community.code}
            )
        if not row.code or not CODE_RE.match(row.code):
            return
        if not row.code.startswith(community.code):
            row.problems.append(
                _("网格编码必须以所属社区“%(name)s”的区划代码 %(community)s 开头。")
                % {"name": community.name, "community": community.code}
            )
            return
        stored = self.stored.get(row.code)
        if stored is None or row.level not in GridLevel.values:  # a bad level is reported already
            return
        if stored["retired_at"] is not None:
            row.problems.append(_("网格编码 %(code)s 属于已停用的网格，编码不能复用。") % {"code": row.code})
        elif stored["level"] != row.level or stored["community_id"] != community.pk:
            place = self.places_by_id.get(stored["community_id"])
            row.problems.append(
                _("网格编码 %(code)s 已被%(community)s的%(level)s“%(name)s”使用。")
                % {
                    "code": row.code,
                    "community": place.name if place else "",
                    "level": GridLevel(stored["level"]).label,
                    "name": stored["name"],
                }
            )
        else:
            row.existing = stored

    # -- geometry against the state after the import --

    def _check_geometry(self) -> None:
        nodes: dict[str, dict] = {}
        file_codes = {r.code for r in self.rows if r.code}
        # Stored siblings (children of the parents the file names) and children of the file's grids.
        parent_codes = {r.parent_code for r in self.rows if r.parent_code} | file_codes
        stored = list(self.stored.values()) + _load_grids("parent__code__in", parent_codes)
        for g in stored:
            if g["retired_at"] is None and g["code"] not in file_codes and g["code"] not in nodes:
                nodes[g["code"]] = {
                    "row": None,
                    "code": g["code"],
                    "parent": g["parent__code"] or "",
                    "geom": _stored_shape(g["geometry"]),
                    "level": g["level"],
                }
        for r in self.rows:
            if r.level in GridLevel.values:
                key = r.code if r.code and self.by_code.get(r.code) is r else f"#{r.index}"
                parent = r.parent_code if r.parent is not None else ""
                nodes[key] = {"row": r, "code": r.code, "parent": parent, "geom": r.geom, "level": r.level}
        self._check_containment(nodes)
        self._check_overlaps(nodes)

    def _check_containment(self, nodes: dict[str, dict]) -> None:
        pairs = [
            (n, nodes[n["parent"]])
            for n in nodes.values()
            if n["parent"]
            and n["parent"] in nodes
            and n["geom"] is not None
            and nodes[n["parent"]]["geom"] is not None
            and (n["row"] is not None or nodes[n["parent"]]["row"] is not None)
        ]
        if not pairs:
            return
        child = np.array([c["geom"] for c, _p in pairs], dtype=object)
        parent = np.array([p["geom"] for _c, p in pairs], dtype=object)
        outside = ~shapely.covers(parent, child)
        idx = np.nonzero(outside)[0]
        if len(idx) == 0:
            return
        areas = _areas_m2(shapely.difference(child[idx], parent[idx]))
        for k, area in zip(idx, areas, strict=True):
            if area <= self.tol:
                continue
            c, p = pairs[k]
            args = {"area": _fmt_area(area), "tol": _fmt_area(self.tol)}
            if c["row"] is not None:
                c["row"].problems.append(
                    _("超出上级网格 %(parent)s 的范围约 %(area)s 平方米（允许 %(tol)s 平方米）。")
                    % {"parent": p["code"], **args}
                )
            else:
                p["row"].problems.append(
                    _(
                        "修改后的边界不再包含下级网格 %(child)s：超出约 %(area)s 平方米（允许 %(tol)s 平方米）。"
                    )
                    % {"child": c["code"], **args}
                )

    def _check_overlaps(self, nodes: dict[str, dict]) -> None:
        items = [
            n
            for n in nodes.values()
            if n["geom"] is not None and n["parent"] and n["level"] in (GridLevel.AREA, GridLevel.MICRO)
        ]
        if len(items) < 2:
            return
        geoms = np.array([n["geom"] for n in items], dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        parents = np.array([n["parent"] for n in items], dtype=object)
        in_file = np.array([n["row"] is not None for n in items])
        keep = (left < right) & (parents[left] == parents[right]) & (in_file[left] | in_file[right])
        left, right = left[keep], right[keep]
        if len(left) == 0:
            return
        areas = _areas_m2(shapely.intersection(geoms[left], geoms[right]))
        for i, j, area in zip(left, right, areas, strict=True):
            if area <= self.tol:
                continue
            self._overlap_problem(items[i], items[j], area)
            self._overlap_problem(items[j], items[i], area)

    def _overlap_problem(self, node: dict, other: dict, area: float) -> None:
        row = node["row"]
        if row is None:
            return
        args = {"area": _fmt_area(area), "tol": _fmt_area(self.tol)}
        o = other["row"]
        if o is None:
            msg = _(
                "与同一上级网格下的已有网格 %(other)s 重叠约 %(area)s 平方米（允许 %(tol)s 平方米）。"
            ) % {"other": other["code"], **args}
        elif o.code:
            msg = _("与第 %(line)d 行的网格 %(other)s 重叠约 %(area)s 平方米（允许 %(tol)s 平方米）。") % {
                "line": o.line,
                "other": o.code,
                **args,
            }
        else:
            msg = _(
                "与第 %(line)d 行的第 %(index)d 个要素重叠约 %(area)s 平方米（允许 %(tol)s 平方米）。"
            ) % {"line": o.line, "index": o.index, **args}
        row.problems.append(msg)


def _fmt_area(v: float) -> str:
    return f"{v:,.1f}" if v < 1e6 else f"{v:,.0f}"


def _changes(row: _Row) -> bool:
    s = row.existing
    if s is None:
        return True
    return (
        s["name"] != row.name
        or (s["parent__code"] or "") != (row.parent_code if row.parent is not None else "")
        or normalize_geometry(s["geometry"]) != row.geometry
    )


def _validate(raw: list[RawFeature], actor) -> tuple[list[_Row], list[Problem]]:
    rows = _read_rows(raw)
    _Validator(rows, actor).run()
    problems = [Problem(msg, line=r.line, index=r.index, code=r.code) for r in rows for msg in r.problems]
    return rows, problems


# ---- import ----


def import_grids(text: str | bytes, *, actor=None, filename: str = "", dry_run: bool = False) -> ImportResult:
    """Validate a whole FeatureCollection and, if nothing is wrong, upsert its grids by code.

    All or nothing: any problem and nothing is written. Grids whose name, boundary and parent
    are unchanged are left untouched, so re-importing an export changes nothing. actor None is
    the system (the command line); anyone else needs grid.import over each community in the file.
    """
    if actor is not None:
        scopes.require(actor, "grid.import")
    raw, problems = parse_feature_collection(text)
    result = ImportResult(dry_run=dry_run, features=len(raw))
    if problems:
        result.problems = problems
        return result
    if dry_run:
        rows, result.problems = _validate(raw, actor)
        if not result.problems:
            _count(rows, result)
        return result
    try:
        with transaction.atomic():
            # Validate inside the transaction so the state checked is the state written.
            rows, result.problems = _validate(raw, actor)
            if result.problems:
                return result
            _count(rows, result)
            _write(rows)
            if result.created or result.updated:
                geo.bump_version()
            audit.record(
                actor,
                "grid.import",
                object_type="grid_import",
                object_id=filename or len(rows),
                after=result.counts(),
            )
    except IntegrityError:
        raise Conflict(
            "grid_import_conflict", _("导入时网格编码与同时进行的另一项修改冲突，没有写入任何数据，请重试。")
        ) from None
    return result


def _count(rows: list[_Row], result: ImportResult) -> None:
    for r in rows:
        if r.existing is None:
            result.created += 1
        elif _changes(r):
            result.updated += 1
        else:
            result.unchanged += 1


def _write(rows: list[_Row]) -> None:
    now = timezone.now()
    # Codes are never reused: lift each community's counter past every sequence in the file first,
    # so codes issued below for new grids without one can't collide with codes the file brings.
    top_seq: dict[int, int] = defaultdict(int)
    for r in rows:
        if r.code:
            top_seq[r.community.pk] = max(top_seq[r.community.pk], int(r.code[12:]))
    for pk, seq in top_seq.items():
        Place.objects.filter(pk=pk, grid_seq__lt=seq).update(grid_seq=seq)
    for r in rows:
        if not r.code:
            r.code = next_grid_code(r.community)
    paths: dict[str, tuple[int, str]] = {}  # code → (id, path) of the grids written so far
    moved: list[tuple[str, str]] = []
    written_ids: list[int] = []
    for level in (GridLevel.COMMUNITY, GridLevel.AREA, GridLevel.MICRO):
        batch = [r for r in rows if r.level == level]
        parent_codes = {
            r.parent.code if isinstance(r.parent, _Row) else r.parent["code"]
            for r in batch
            if r.parent is not None
        }
        missing = [c for c in parent_codes if c not in paths]
        for i in range(0, len(missing), _CHUNK):
            paths.update(
                {
                    c: (pk, p)
                    for pk, c, p in Grid.objects.filter(code__in=missing[i : i + _CHUNK]).values_list(
                        "id", "code", "path"
                    )
                }
            )
        creates, updates = [], []
        for r in batch:
            parent = None
            if r.parent is not None:
                pcode = r.parent.code if isinstance(r.parent, _Row) else r.parent["code"]
                parent = paths[pcode]
            path = (parent[1] if parent else "/") + r.code + "/"
            x0, y0, x1, y1 = r.geom.bounds
            grid = Grid(
                code=r.code,
                name=r.name,
                search_key=search_key(r.name),
                level=r.level,
                community=r.community,
                parent_id=parent[0] if parent else None,
                path=path,
                place_path=r.community.path,
                geometry=r.geometry,
                min_lon=x0,
                min_lat=y0,
                max_lon=x1,
                max_lat=y1,
                updated_at=now,
            )
            if r.existing is None:
                creates.append(grid)
            else:
                grid.pk = r.existing["id"]
                paths[r.code] = (grid.pk, path)
                if _changes(r):
                    updates.append(grid)
                    written_ids.append(grid.pk)
                    if path != r.existing["path"]:
                        moved.append((r.existing["path"], path))
        Grid.objects.bulk_create(creates, batch_size=_CHUNK)
        if any(g.pk is None for g in creates):
            ids = dict(Grid.objects.filter(code__in=[g.code for g in creates]).values_list("code", "id"))
            for g in creates:
                g.pk = ids[g.code]
        for g in creates:
            paths[g.code] = (g.pk, g.path)
            written_ids.append(g.pk)
        Grid.objects.bulk_update(
            updates,
            ["name", "search_key", "parent", "path", "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "updated_at"],
            batch_size=_CHUNK,
        )
    # A moved area grid carries its micro grids that this import did not write to the new path.
    written = set(written_ids)
    for old, new in moved:
        descendants = [
            g for g in Grid.objects.filter(path__startswith=old).only("id", "path") if g.pk not in written
        ]
        for g in descendants:
            g.path = new + g.path[len(old) :]
        Grid.objects.bulk_update(descendants, ["path"], batch_size=_CHUNK)


# ---- export ----


def _feature_json(code, name, level, parent_code, community_code, geometry) -> str:
    feature = {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent_code,
            "community_code": community_code,
        },
        "geometry": normalize_geometry(geometry),
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def export_grids(*, level: str | None = None, within: str | None = None) -> str:
    """Active grids as a FeatureCollection: one feature per line, sorted by code, byte-stable."""
    if level is not None and level not in GridLevel.values:
        raise ValidationFailed(
            "bad_level", _("层级只能是 %(levels)s 之一。") % {"levels": ", ".join(GridLevel.values)}
        )
    if within and not Place.objects.filter(code=within).exists():
        raise NotFound("no_place", _("区划代码 %(code)s 不存在。") % {"code": within})
    features = selectors.grids_feature_collection(level=level, within=within)["features"]
    features.sort(key=lambda f: f["properties"]["code"])
    lines = []
    for f in features:
        p = f["properties"]
        lines.append(
            _feature_json(
                p["code"], p["name"], p["level"], p["parent_code"], p["community_code"], f["geometry"]
            )
        )
    body = ",\n".join(lines) + "\n" if lines else ""
    return '{"type":"FeatureCollection","features":[\n' + body + "]}\n"


def feature_count(exported: str) -> int:
    """How many features an export_grids() text holds (one per line)."""
    return exported.count('\n{"type":"Feature",')
