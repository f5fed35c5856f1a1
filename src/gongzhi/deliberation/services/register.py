"""The owners' register (业主名册) of a compound: imported from Excel, all or nothing, and read by the
tally of an owners' vote (Civil Code art. 278).

One Excel row per (unit, owner). A unit with several owners has several rows with the same 楼栋 and
房号 and the same area, exactly one of them the voting representative; a developer's unsold unit has
one row marked 开发商未售 and no owner. Every row is checked first and every problem is reported
with its Excel row number; only a clean file is written, and it REPLACES the compound's register
in one transaction. While a proposal of the compound is being voted on, the register is frozen.

Owners are matched to the people already registered by ID number (a keyed hash, never the number
itself), else by phone number and the same name (a couple sharing one phone stay two people), and
the others are registered through org's own service, in the compound's community.

The tally reads `register_rows`: one row per unit, keyed by its voting representative's person
("person:12"), or "developer" for all the unsold units together, which thus count as one owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, pii, scopes
from gongzhi.core.errors import Conflict, GongzhiError, NotFound
from gongzhi.core.exports import XLSX_MIME, Column, read_xlsx, xlsx_response
from gongzhi.core.text import checked_text
from gongzhi.org import services as org_services
from gongzhi.org.excel_io import header_key, template_bytes
from gongzhi.org.models import Person
from gongzhi.places.models import Place, PlaceKind

from .. import tally
from ..models import OwnedUnit, Proposal, ProposalState, UnitOwner
from .common import MANAGE, VIEW, busy

__all__ = [
    "DEVELOPER",
    "REGISTER_HEADERS",
    "RegisterImport",
    "compound_of",
    "import_register",
    "register_for",
    "register_rows",
    "register_summary",
    "register_xlsx",
    "template_response",
    "units_of",
    "voter_key_of",
]

DEVELOPER = "developer"  # the voter key of all the developer's unsold units together

# The file format: fixed Chinese headers (the contract with the people who fill them in). A header is
# matched without its bracketed note and spaces (org.excel_io.header_key): "专有面积" is enough.
REGISTER_HEADERS = ["楼栋", "房号", "专有面积（平方米）", "业主姓名", "身份证号", "手机号", "投票代表（是/否）",
                    "开发商未售（是/否）"]
_K_BUILDING, _K_UNIT, _K_AREA, _K_NAME, _K_ID, _K_PHONE, _K_REP, _K_UNSOLD = (
    header_key(h) for h in REGISTER_HEADERS)
# Columns Excel must keep as text, or it eats leading zeros and the last digits of an ID number.
TEXT_COLUMNS = {"楼栋", "房号", "身份证号", "手机号"}

MAX_ROWS = 20000
BUILDING_MAX = UNIT_MAX = 40  # OwnedUnit.building / unit_no
NAME_MAX = 50  # Person.name
AREA_MAX_CENTI = 10**10 - 1  # OwnedUnit.area: max_digits=10, decimal_places=2

_YES = {"是", "Y", "YES", "TRUE", "1", "√", "✓"}
_NO = {"否", "N", "NO", "FALSE", "0", "×"}


@dataclass
class RegisterImport:
    """What an import found (dry run) or wrote: units, owners by head as the tally counts them (one per
    voting person, the developer's unsold units together as one), the total area in m², and every
    problem as (Excel row number, message naming the row); 0 is the file as a whole."""

    units: int = 0
    owners: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    total_area: Decimal = Decimal("0.00")
    rows: int = 0
    developer_units: int = 0
    people_matched: int = 0  # owners found among the people already registered
    people_created: int = 0  # owners registered as new people (or to be, in a dry run)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def messages(self) -> list[str]:
        return [message for _n, message in self.problems]


# ---------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------


def compound_of(compound) -> Place:
    """A compound (小区) by id or as a Place; a clear 404 for anything else."""
    pid = getattr(compound, "pk", compound)
    try:
        return Place.objects.select_related("parent").get(pk=int(pid), kind=PlaceKind.COMPOUND)
    except (Place.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("compound_not_found", _("找不到该小区。")) from None


def register_for(actor, compound) -> Place:
    """The compound, if the actor may read its register (deliberation.view over it: managers in scope,
    the district's admin and auditors), else a 403."""
    place = compound_of(compound)
    scopes.require(actor, VIEW, place)
    return place


def units_of(compound):
    """The compound's units in register order, each with its owners (representative first)."""
    owners = UnitOwner.objects.select_related("person").order_by("-representative", "id")
    return (OwnedUnit.objects.filter(compound=compound).order_by("building", "unit_no", "id")
            .prefetch_related(Prefetch("owners", queryset=owners)))


def _unit_key(building: str, unit_no: str) -> str:
    return f"{building}-{unit_no}"


def _area(centi: int) -> Decimal:
    return Decimal(centi).scaleb(-2)


def register_rows(compound) -> list[tuple[str, str, Decimal]]:
    """The register as the tally reads it: (unit key "楼栋-房号", voter key, area) for every unit; the
    voter key is "developer" for an unsold unit, else "person:<id>" of the unit's representative."""
    reps = dict(UnitOwner.objects.filter(unit__compound=compound, representative=True)
                .values_list("unit_id", "person_id"))
    out = []
    for pk, building, unit_no, area, unsold in (OwnedUnit.objects.filter(compound=compound)
                                                .order_by("building", "unit_no", "id")
                                                .values_list("pk", "building", "unit_no", "area",
                                                             "developer_unsold")):
        voter = DEVELOPER if unsold else f"person:{reps[pk]}" if pk in reps else ""
        out.append((_unit_key(building, unit_no), voter, area))
    return out


def voter_key_of(user, compound) -> str | None:
    """The signed-in user's voter key in the compound ("person:<id>"): their person represents at least
    one unit there. None for anyone else (a co-owner who is not the representative votes through them)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    person_id = (UnitOwner.objects.filter(unit__compound=compound, representative=True, person__user=user)
                 .values_list("person_id", flat=True).first())
    return f"person:{person_id}" if person_id is not None else None


def register_summary(compound) -> dict:
    """The figures of the register: units, owners by head as the tally counts them, the total area (a
    Decimal in m²), the developer's unsold units, and the people on it (every co-owner once)."""
    owners = tally.owners_from_register(register_rows(compound))
    centi = sum(o.area_centi for o in owners.values())
    return {
        "units": sum(len(o.units) for o in owners.values()),
        "owners": len(owners),
        "total_area": _area(centi),
        "developer_units": len(owners[DEVELOPER].units) if DEVELOPER in owners else 0,
        "people": UnitOwner.objects.filter(unit__compound=compound).values("person_id").distinct().count(),
    }


# ---------------------------------------------------------------------------------------------------
# The import: reading and checking the rows
# ---------------------------------------------------------------------------------------------------


def _at(n: int, message) -> tuple[int, str]:
    return n, _("第 %(row)s 行：%(message)s") % {"row": n, "message": message}


def _text(value) -> str:
    s = str(value or "").strip()
    # A number typed into a general cell comes back as 13812345678.0.
    return s[:-2] if re.fullmatch(r"\d+\.0", s) else s


def _yes_no(text: str, label: str) -> tuple[bool | None, str | None]:
    """(True/False, None), (None, None) when blank, or (None, a problem) for anything else."""
    word = text.strip().upper()
    if not word:
        return None, None
    if word in _YES:
        return True, None
    if word in _NO:
        return False, None
    return None, _("%(field)s只能填 是 或 否：%(v)s") % {"field": label, "v": text}


@dataclass
class _Owner:
    n: int
    name: str
    id_number: str
    phone: str
    representative: bool | None
    key: tuple = ()  # who this is within the file (see _identify)


@dataclass
class _Unit:
    n: int  # the unit's first row
    building: str
    unit_no: str
    centi: int
    area_text: str
    unsold_row: int | None = None
    owners: list[_Owner] = field(default_factory=list)
    representative: _Owner | None = None

    @property
    def key(self) -> str:
        return _unit_key(self.building, self.unit_no)


def _read(fileobj, problems: list[tuple[int, str]]) -> list[tuple[int, dict]]:
    """Rows as (Excel row number, {canonical header: text}); file-level problems as row 0."""
    try:
        _missing, rows = read_xlsx(fileobj, required=[])
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        problems.append((0, _("无法读取文件：请上传 .xlsx 格式的 Excel 文件（可先下载模板）。")))
        return []
    if not rows:
        problems.append((0, _("文件中没有数据行：第 1 行是表头，数据从第 2 行开始。")))
        return []
    wanted = {header_key(h): h for h in REGISTER_HEADERS}
    present = {header_key(k) for k in rows[0][1]}
    missing = [h for k, h in wanted.items() if k not in present]
    if missing:
        problems.append((1, _("缺少列：%(cols)s。请使用导入模板的表头。") % {"cols": "、".join(missing)}))
        return []
    if len(rows) > MAX_ROWS:
        problems.append((0, _("一次最多导入 %(max)s 行，本文件有 %(n)s 行，请分批导入。") % {
            "max": MAX_ROWS, "n": len(rows)}))
        return []
    out = []
    for n, rec in rows:
        norm = {header_key(k): _text(v) for k, v in rec.items()}
        out.append((n, {k: norm.get(k, "") for k in wanted}))
    return out


def _field(value: str, label, max_len: int, n: int, problems) -> str:
    try:
        return checked_text(value, field_label=label, max_len=max_len)
    except GongzhiError as exc:
        problems.append(_at(n, exc.message))
        return ""


def _check_rows(rows, problems: list[tuple[int, str]]) -> dict[tuple[str, str], _Unit]:
    """Every row on its own, then every unit across its rows; problems in row order."""
    units: dict[tuple[str, str], _Unit] = {}
    spoiled: set[tuple[str, str]] = set()  # units with a bad row: no verdict on their representative
    for n, rec in rows:
        before = len(problems)
        building = _field(rec[_K_BUILDING], _("楼栋"), BUILDING_MAX, n, problems)
        unit_no = _field(rec[_K_UNIT], _("房号"), UNIT_MAX, n, problems)
        centi = None
        try:
            centi = tally.parse_area(rec[_K_AREA], unit=_unit_key(building, unit_no))
        except GongzhiError as exc:
            problems.append(_at(n, exc.message))
        else:
            if centi > AREA_MAX_CENTI:
                problems.append(_at(n, _("专有面积不能超过 %(max)s 平方米。") % {"max": _area(AREA_MAX_CENTI)}))
                centi = None
        unsold, problem = _yes_no(rec[_K_UNSOLD], _("开发商未售"))
        if problem:
            problems.append(_at(n, problem))
        rep, problem = _yes_no(rec[_K_REP], _("投票代表"))
        if problem:
            problems.append(_at(n, problem))
        owner = None
        if unsold:
            if rec[_K_NAME] or rec[_K_ID] or rec[_K_PHONE] or rep:
                problems.append(_at(n, _("开发商未售的房屋没有业主：请不要填写业主姓名、身份证号、手机号和投票代表。")))
        else:
            owner = _check_owner(n, rec, rep, problems)
        if len(problems) != before or not building or not unit_no or centi is None:
            spoiled.add((building, unit_no))
            continue
        unit = units.get((building, unit_no))
        if unit is None:
            unit = units[(building, unit_no)] = _Unit(n, building, unit_no, centi, rec[_K_AREA])
        elif unit.centi != centi:
            problems.append(_at(n, _("与第 %(row)s 行是同一套房屋（%(unit)s），专有面积却不同：%(a)s 与 %(b)s。") % {
                "row": unit.n, "unit": unit.key, "a": unit.area_text, "b": rec[_K_AREA]}))
            spoiled.add((building, unit_no))
            continue
        if unsold:
            first = unit.unsold_row or (unit.owners[0].n if unit.owners else None)
            if first is not None:
                problems.append(_at(n, _("房屋 %(unit)s 已在第 %(row)s 行登记，开发商未售的房屋只占一行，且没有业主。") % {
                    "unit": unit.key, "row": first}))
                spoiled.add((building, unit_no))
                continue
            unit.unsold_row = n
        else:
            if unit.unsold_row is not None:
                problems.append(_at(n, _("房屋 %(unit)s 在第 %(row)s 行标为开发商未售，不能再登记业主。") % {
                    "unit": unit.key, "row": unit.unsold_row}))
                spoiled.add((building, unit_no))
                continue
            unit.owners.append(owner)
    _identify(units, problems)
    for where, unit in units.items():
        if unit.owners and where not in spoiled:
            _choose_representative(unit, problems)
    problems.sort(key=lambda p: p[0])
    return units


def _check_owner(n: int, rec: dict, rep: bool | None, problems) -> _Owner | None:
    before = len(problems)
    name = _field(rec[_K_NAME], _("业主姓名"), NAME_MAX, n, problems)
    id_number = phone = ""
    if rec[_K_ID]:
        try:
            id_number = org_services.validate_id_number(rec[_K_ID])
        except GongzhiError as exc:
            problems.append(_at(n, exc.message))
    if rec[_K_PHONE]:
        try:
            phone = org_services.validate_phone(rec[_K_PHONE])
        except GongzhiError as exc:
            problems.append(_at(n, exc.message))
    if not rec[_K_ID] and not rec[_K_PHONE]:
        # Without either, the same owner could not be recognised again in the next year's register.
        problems.append(_at(n, _("请填写业主的身份证号或手机号（至少一项），以便识别同一位业主。")))
    if len(problems) != before:
        return None
    return _Owner(n, name, id_number, phone, rep)


def _identify(units: dict[tuple[str, str], _Unit], problems) -> None:
    """Who is who within the file: one ID number is one person (and has one name); a row without an ID
    number is the person with its phone and name (the ID-number row with them, if there is one)."""
    by_id: dict[str, _Owner] = {}
    by_phone_name: dict[tuple[str, str], tuple] = {}
    owners = [o for u in units.values() for o in u.owners]
    for o in sorted(owners, key=lambda o: o.n):
        if not o.id_number:
            continue
        first = by_id.setdefault(o.id_number, o)
        if first.name != o.name:
            problems.append(_at(o.n, _("身份证号与第 %(row)s 行相同，姓名却不同（%(a)s 与 %(b)s）。") % {
                "row": first.n, "a": first.name, "b": o.name}))
        o.key = ("id", o.id_number)
        if o.phone:
            by_phone_name.setdefault((o.phone, o.name), o.key)
    for o in owners:
        if not o.id_number:
            o.key = by_phone_name.get((o.phone, o.name), ("phone", o.phone, o.name))
    for unit in units.values():
        seen: dict[tuple, int] = {}
        for o in unit.owners:
            if o.key in seen:
                problems.append(_at(o.n, _("同一位业主在房屋 %(unit)s 中重复登记（第 %(row)s 行）。") % {
                    "unit": unit.key, "row": seen[o.key]}))
            else:
                seen[o.key] = o.n


def _choose_representative(unit: _Unit, problems) -> None:
    chosen = [o for o in unit.owners if o.representative]
    if len(chosen) > 1:
        for o in chosen[1:]:
            problems.append(_at(o.n, _("房屋 %(unit)s 已有投票代表（第 %(row)s 行），每套房屋只能有一位投票代表。") % {
                "unit": unit.key, "row": chosen[0].n}))
        return
    if not chosen and len(unit.owners) == 1 and unit.owners[0].representative is None:
        chosen = unit.owners  # a sole owner votes for the unit: "是" may be left blank
    if not chosen:
        problems.append(_at(unit.n, _("房屋 %(unit)s 没有投票代表：请在其中一位业主的「投票代表」一栏填 是。") % {
            "unit": unit.key}))
        return
    unit.representative = chosen[0]


# ---------------------------------------------------------------------------------------------------
# The import: matching owners to people, and writing
# ---------------------------------------------------------------------------------------------------


def _match(units: dict[tuple[str, str], _Unit]) -> dict[tuple, Person]:
    """The people already registered, by owner key: by ID-number hash, else by phone hash and the same
    name (for an owner with an ID number, only among people registered without one)."""
    specs: dict[tuple, _Owner] = {}
    for unit in units.values():
        for o in unit.owners:
            specs.setdefault(o.key, o)
    id_hashes = {pii.lookup_hash(o.id_number) for o in specs.values() if o.id_number}
    phone_hashes = {pii.lookup_hash(o.phone) for o in specs.values() if o.phone}
    by_id: dict[str, Person] = {}
    by_phone: dict[tuple[str, str], list[Person]] = {}
    id_list, phone_list = sorted(id_hashes), sorted(phone_hashes)
    for i in range(0, len(id_list), 500):
        for p in Person.objects.filter(id_hash__in=id_list[i:i + 500]):
            by_id[p.id_hash] = p
    for i in range(0, len(phone_list), 500):
        for p in Person.objects.filter(phone_hash__in=phone_list[i:i + 500]).order_by("id"):
            by_phone.setdefault((p.phone_hash, p.name), []).append(p)
    found: dict[tuple, Person] = {}
    for key, o in specs.items():
        person = by_id.get(pii.lookup_hash(o.id_number)) if o.id_number else None
        if person is None and o.phone:
            candidates = by_phone.get((pii.lookup_hash(o.phone), o.name), [])
            if o.id_number:
                candidates = [p for p in candidates if not p.id_hash]
            person = candidates[0] if candidates else None
        if person is not None:
            found[key] = person
    return found


def _same_person_twice(units, found: dict[tuple, Person], problems) -> None:
    """Two owners of one unit that are one registered person (an ID-number row and a phone-only row)."""
    for unit in units.values():
        seen: dict[int, int] = {}
        for o in unit.owners:
            person = found.get(o.key)
            if person is None:
                continue
            if person.pk in seen:
                problems.append(_at(o.n, _("同一位业主在房屋 %(unit)s 中重复登记（第 %(row)s 行）。") % {
                    "unit": unit.key, "row": seen[person.pk]}))
            else:
                seen[person.pk] = o.n


def _count(result: RegisterImport, units, found: dict[tuple, Person]) -> None:
    def voter(unit: _Unit):
        if unit.unsold_row is not None:
            return DEVELOPER
        key = unit.representative.key
        return ("person", found[key].pk) if key in found else key

    voters = {voter(u) for u in units.values()}
    keys = {o.key for u in units.values() for o in u.owners}
    result.units = len(units)
    result.owners = len(voters)
    result.total_area = _area(sum(u.centi for u in units.values()))
    result.developer_units = sum(1 for u in units.values() if u.unsold_row is not None)
    result.people_matched = len({found[k].pk for k in keys if k in found})
    result.people_created = len(keys - found.keys())


class _Rollback(Exception):
    pass


def _vote_open(compound) -> bool:
    """A vote has opened (by the clock: the worker flips the state a round later) and is not yet decided:
    its ballots and its tally read this register, so it stays as it is until the result is published."""
    return (Proposal.objects.filter(place=compound, opens_at__lte=timezone.now())
            .exclude(state__in=(ProposalState.DECIDED, ProposalState.WITHDRAWN)).exists())


def import_register(*, actor, compound, fileobj, dry_run: bool = False, source: str = "") -> RegisterImport:
    """Replace the compound's owners' register by the Excel file's, all or nothing.

    Refused (403) without deliberation.manage over the compound, and (409 "vote_open") while one of
    its proposals is being voted on. Anything wrong in the file comes back in `problems`, each with its
    row, and nothing is written; `dry_run` checks everything (matching owners too) and writes nothing.
    """
    place = compound_of(compound)
    scopes.require(actor, MANAGE, place)
    result = RegisterImport(dry_run=dry_run)
    rows = _read(fileobj, result.problems)
    result.rows = len(rows)
    if not rows:
        return result
    units = _check_rows(rows, result.problems)
    if result.problems:
        return result
    if dry_run:
        found = _match(units)
        _same_person_twice(units, found, result.problems)
        result.problems.sort(key=lambda p: p[0])
        if not result.problems:
            _count(result, units, found)
        return result

    community = place.parent if place.parent_id and place.parent.kind == PlaceKind.COMMUNITY else None

    def run():
        locked = Place.objects.select_for_update(no_key=True).get(pk=place.pk)
        if _vote_open(locked):
            raise Conflict("vote_open", _("该小区有正在投票的议题，投票结束前不能更换业主名册。"))
        problems: list[tuple[int, str]] = []
        found = _match(units)
        _same_person_twice(units, found, problems)
        if problems:
            result.problems = sorted(problems, key=lambda p: p[0])
            raise _Rollback
        _count(result, units, found)
        areas = list(OwnedUnit.objects.filter(compound=locked).values_list("area", flat=True))
        before = {"units": len(areas), "total_area": str(sum(areas, _area(0)))}
        created: list[Person] = []
        for unit in units.values():
            for o in unit.owners:
                if o.key in found:
                    continue
                try:
                    person = org_services.person_create(
                        actor=actor, name=o.name, phone=o.phone, id_number=o.id_number,
                        registered_community=community, audit_entry=False)
                except GongzhiError as exc:
                    problems.append(_at(o.n, exc.message))
                    continue
                found[o.key] = person
                created.append(person)
        if problems:
            result.problems = sorted(problems, key=lambda p: p[0])
            raise _Rollback
        OwnedUnit.objects.filter(compound=locked).delete()  # their UnitOwner rows go with them (CASCADE)
        made = OwnedUnit.objects.bulk_create([
            OwnedUnit(compound=locked, building=u.building, unit_no=u.unit_no, area=_area(u.centi),
                      developer_unsold=u.unsold_row is not None, place_path=locked.path)
            for u in units.values()])
        UnitOwner.objects.bulk_create([
            UnitOwner(unit=row, person=found[o.key], representative=o is u.representative)
            for u, row in zip(units.values(), made, strict=True) for o in u.owners])
        # Only masked values go in the audit trail (as org's person.create), and the head is locked last.
        entries = [(actor, "person.create", p, {"after": {
            "name": p.name, "phone": p.phone_masked, "id": p.id_masked,
            "community": community.code if community else None, "party_status": None}}) for p in created]
        entries.append((actor, "deliberation.register_import", locked, {
            "before": before,
            "after": {"units": result.units, "owners": result.owners, "total_area": str(result.total_area),
                      "developer_units": result.developer_units, "people_matched": result.people_matched,
                      "people_created": result.people_created, "rows": result.rows,
                      "source": source[:200]}}))
        audit.record_many(entries)

    try:
        busy(run)
    except _Rollback:
        pass
    return result


# ---------------------------------------------------------------------------------------------------
# Excel: the template and the register as a ledger (names only)
# ---------------------------------------------------------------------------------------------------


def template_response() -> HttpResponse:
    notes = [
        _("第 1 行是表头，请勿修改；数据从第 2 行开始，每行一套房屋的一位业主。"),
        _("一套房屋有多位业主时，每位业主各占一行，楼栋、房号和专有面积相同，其中恰好一位的「投票代表」填 是。"),
        _("专有面积以不动产登记簿为准（未登记的按测绘或合同面积），单位平方米，最多两位小数。"),
        _("身份证号为 18 位（末位可为 X），手机号为 11 位，至少填写一项，请以文本格式填写。"),
        _("开发商未售的房屋每套一行，「开发商未售」填 是，不填写业主；这些房屋合计算一位业主。"),
        _("导入会替换本小区现有的业主名册；小区有正在投票的议题时不能导入。"),
        _("整个文件全部通过检查才会导入；有任何一行有问题，一行也不会写入，并列出所有问题。"),
    ]
    data = template_bytes(REGISTER_HEADERS, TEXT_COLUMNS, notes)
    title = _("业主名册导入模板")
    resp = HttpResponse(data, content_type=XLSX_MIME)
    resp["Content-Disposition"] = f"attachment; filename=\"template.xlsx\"; filename*=UTF-8''{quote(title + '.xlsx')}"
    return resp


def register_xlsx(compound) -> HttpResponse:
    """The register as a ledger: one row per (unit, owner) as in the template, names only (no phone or
    ID number: a ledger is printed, mailed and forgotten on desktops)."""
    def rows():
        for unit in units_of(compound).iterator(chunk_size=2000):
            owners = list(unit.owners.all()) or [None]
            for o in owners:
                yield unit, o

    yes, no = _("是"), _("否")
    columns = [
        Column(_("楼栋"), lambda r: r[0].building, 12),
        Column(_("房号"), lambda r: r[0].unit_no, 12),
        Column(_("专有面积（平方米）"), lambda r: r[0].area, 18),
        Column(_("业主姓名"), lambda r: r[1].person.name if r[1] else "", 16),
        Column(_("投票代表"), lambda r: (yes if r[1].representative else no) if r[1] else "", 10),
        Column(_("开发商未售"), lambda r: yes if r[0].developer_unsold else no, 12),
    ]
    return xlsx_response(_("%(c)s业主名册") % {"c": compound.name}, columns, rows())

