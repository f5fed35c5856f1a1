"""Registry ledgers in and out of Excel: people and member-unit imports, templates and exports.

Imports are all or nothing: every row is checked first and every problem is reported with its
Excel row number; only a clean file is written, in one transaction, through the same services
the pages use (so permissions, audit entries and rules are the same). Exports go through
core.exports and carry masked personal data only.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from gongzhi.core import audit, pii, scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.core.exports import XLSX_MIME, Column, read_xlsx, sheet_title, xlsx_response

from . import selectors, services
from .models import UNIT_KINDS, Agreement, OrgKind, PartyStatus, Person

# The file formats: fixed Chinese headers (the contract with the people who fill them in).
PEOPLE_HEADERS = ["姓名", "手机号", "身份证号", "性别", "登记社区代码", "党员状态(在职/退休/流动)", "组织关系所在党组织"]
UNIT_HEADERS = ["单位名称", "单位类型", "统一社会信用代码", "所属联合党委", "协议编号", "协议开始日期", "协议结束日期",
                "职责清单", "资源承诺"]
# Columns Excel must keep as text, or it eats leading zeros and the last digits of an ID number.
PEOPLE_TEXT_COLUMNS = {"手机号", "身份证号", "登记社区代码"}
UNIT_TEXT_COLUMNS = {"统一社会信用代码", "协议编号", "协议开始日期", "协议结束日期"}

MAX_ROWS = 20000

PARTY_STATUS_WORDS = {
    "在职": PartyStatus.IN_SERVICE, "在职党员": PartyStatus.IN_SERVICE,
    "退休": PartyStatus.RETIRED, "退休党员": PartyStatus.RETIRED,
    "流动": PartyStatus.FLOATING, "流动党员": PartyStatus.FLOATING,
    **{s.value: s for s in PartyStatus},
}
GENDER_WORDS = {"男": "M", "女": "F", "M": "M", "F": "F"}


def header_key(h: str) -> str:
    """'党员状态(在职/退休/流动)' and '党员状态' are the same column; spaces do not matter."""
    return re.sub(r"\s+", "", re.sub(r"[（(][^）)]*[）)]\s*$", "", str(h or "")))


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


class _Rollback(Exception):
    pass


def _at(n: int, message) -> tuple[int, str]:
    return n, _("第 %(row)s 行：%(message)s") % {"row": n, "message": message}


def _read(fileobj, headers: list[str], result: ImportResult) -> list[tuple[int, dict]]:
    """Rows as (excel row number, {canonical header: text}); file-level problems go to result."""
    try:
        _missing, rows = read_xlsx(fileobj, required=[])
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.problems.append(_("无法读取文件：请上传 .xlsx 格式的 Excel 文件（可先下载模板）。"))
        return []
    if not rows:
        result.problems.append(_("文件中没有数据行：第 1 行是表头，数据从第 2 行开始。"))
        return []
    wanted = {header_key(h): h for h in headers}
    present = {header_key(k) for k in rows[0][1]}
    missing = [h for k, h in wanted.items() if k not in present]
    if missing:
        result.problems.append(_("缺少列：%(cols)s。请使用导入模板的表头。") % {"cols": "、".join(missing)})
        return []
    if len(rows) > MAX_ROWS:
        result.problems.append(_("一次最多导入 %(max)s 行，本文件有 %(n)s 行，请分批导入。") % {"max": MAX_ROWS, "n": len(rows)})
        return []
    result.rows = len(rows)
    out = []
    for n, rec in rows:
        norm = {header_key(k): _text(v) for k, v in rec.items()}
        out.append((n, {k: norm.get(k, "") for k in wanted}))
    return out


def _text(v) -> str:
    s = str(v or "").strip()
    # A number typed into a general cell comes back as 13812345678.0.
    return s[:-2] if re.fullmatch(r"\d+\.0", s) else s


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def parse_date(text: str) -> dt.date:
    """Dates as people type them in Excel: 2024-01-01, 2024/1/1, 2024年1月1日, a date cell, a serial."""
    s = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", s):  # a date cell read back as a datetime
        s = s[:10]
    if re.fullmatch(r"\d{5}", s):  # an Excel serial day number in a general-format cell
        from openpyxl.utils.datetime import from_excel

        return from_excel(int(s)).date()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(s)


def _hashes_taken(model, field_name: str, values: list[str]) -> set[str]:
    taken: set[str] = set()
    values = [v for v in set(values) if v]
    for i in range(0, len(values), 500):
        taken.update(model.objects.filter(**{f"{field_name}__in": values[i:i + 500]})
                     .values_list(field_name, flat=True))
    return taken


# ---- people ----

def import_people(fileobj, *, actor, dry_run: bool = False, source: str = "") -> ImportResult:
    result = ImportResult(dry_run=dry_run)
    rows = _read(fileobj, PEOPLE_HEADERS, result)
    if not rows:
        return result
    problems: list[tuple[int, str]] = []
    communities: dict[str, object] = {}
    home_orgs: dict[str, object] = {}
    first_seen_id: dict[str, int] = {}
    plans: list[tuple[int, dict, str]] = []
    for n, rec in rows:
        before = len(problems)
        name = rec["姓名"]
        if not name:
            problems.append(_at(n, _("姓名不能为空。")))
        elif len(name) > 50:
            problems.append(_at(n, _("姓名不超过 50 个字。")))
        phone = id_number = ""
        if rec["手机号"]:
            try:
                phone = services.validate_phone(rec["手机号"])
            except GongzhiError as exc:
                problems.append(_at(n, exc.message))
        if rec["身份证号"]:
            try:
                id_number = services.validate_id_number(rec["身份证号"])
            except GongzhiError as exc:
                problems.append(_at(n, exc.message))
            else:
                if id_number in first_seen_id:
                    problems.append(_at(n, _("身份证号与第 %(row)s 行重复。") % {"row": first_seen_id[id_number]}))
                else:
                    first_seen_id[id_number] = n
        gender = ""
        if rec["性别"]:
            gender = GENDER_WORDS.get(rec["性别"].upper(), "?")
            if gender == "?":
                problems.append(_at(n, _("性别只能填 男 或 女：%(v)s") % {"v": rec["性别"]}))
        community = None
        code = rec["登记社区代码"]
        if not code:
            problems.append(_at(n, _("登记社区代码不能为空。")))
        else:
            if code not in communities:
                try:
                    communities[code] = services.community_by_code(code)
                except GongzhiError as exc:
                    communities[code] = exc
            found = communities[code]
            if isinstance(found, GongzhiError):
                problems.append(_at(n, found.message))
            elif not scopes.can(actor, "registry.edit", found):
                problems.append(_at(n, _("您无权在「%(c)s」登记人员。") % {"c": found.name}))
            else:
                community = found
        status_word, home_name = rec["党员状态"], rec["组织关系所在党组织"]
        party_status, home = None, None
        if status_word:
            party_status = PARTY_STATUS_WORDS.get(status_word)
            if party_status is None:
                problems.append(_at(n, _("党员状态只能填 在职、退休 或 流动：%(v)s") % {"v": status_word}))
            if not home_name:
                problems.append(_at(n, _("党员必须填写组织关系所在党组织。")))
        elif home_name:
            problems.append(_at(n, _("填写了组织关系所在党组织，请同时填写党员状态。")))
        if status_word and home_name:
            if home_name not in home_orgs:
                try:
                    home_orgs[home_name] = services.organization_by_name(home_name)
                except GongzhiError as exc:
                    home_orgs[home_name] = exc
            found = home_orgs[home_name]
            if isinstance(found, GongzhiError):
                problems.append(_at(n, found.message))
            else:
                home = found
        if len(problems) == before:
            plans.append((n, {"name": name, "phone": phone, "id_number": id_number, "gender": gender,
                              "registered_community": community, "party_status": party_status,
                              "home_organization": home}, pii.lookup_hash(id_number)))
    taken = _hashes_taken(Person, "id_hash", [h for _n, _p, h in plans])
    for n, plan, id_hash in plans:
        if id_hash and id_hash in taken:
            problems.append(_at(n, _("身份证号 %(masked)s 已登记。") % {"masked": pii.mask_id(plan["id_number"])}))
    return _write(result, problems, plans, actor=actor, dry_run=dry_run, action="person.import", source=source,
                  write=lambda plan: services.person_create(actor=actor, **plan))


# ---- member units ----

def _unit_kind_words() -> dict[str, str]:
    words = {}
    for k in UNIT_KINDS:
        words[k.value] = k.value
        words[str(k.label)] = k.value
        with translation.override("zh-hans"):
            words[str(k.label)] = k.value
    return words


def import_units(fileobj, *, actor, dry_run: bool = False, source: str = "") -> ImportResult:
    result = ImportResult(dry_run=dry_run)
    rows = _read(fileobj, UNIT_HEADERS, result)
    if not rows:
        return result
    problems: list[tuple[int, str]] = []
    kinds = _unit_kind_words()
    committees: dict[str, object] = {}
    committee_qs = selectors.organizations_visible_to(actor).filter(kind__in=services.JOINABLE_KINDS)
    first_seen_number: dict[str, int] = {}
    plans: list[tuple[int, dict, str]] = []
    for n, rec in rows:
        before = len(problems)
        name = rec["单位名称"]
        if not name:
            problems.append(_at(n, _("单位名称不能为空。")))
        elif len(name) > 150:
            problems.append(_at(n, _("单位名称不超过 150 个字。")))
        kind = kinds.get(rec["单位类型"])
        if kind is None:
            problems.append(_at(n, _("单位类型「%(v)s」不正确，应为：%(kinds)s") % {
                "v": rec["单位类型"], "kinds": services.unit_kind_labels()}))
        credit_code = rec["统一社会信用代码"].upper()
        if credit_code and not re.fullmatch(r"[0-9A-Z]{18}", credit_code):
            problems.append(_at(n, _("统一社会信用代码应为 18 位数字或大写字母。")))
        committee = None
        committee_name = rec["所属联合党委"]
        if not committee_name:
            problems.append(_at(n, _("所属联合党委不能为空。")))
        else:
            if committee_name not in committees:
                try:
                    committees[committee_name] = services.organization_by_name(
                        committee_name, queryset=committee_qs, label=_("联合党委或党建联盟"))
                except GongzhiError as exc:
                    committees[committee_name] = exc
            found = committees[committee_name]
            if isinstance(found, GongzhiError):
                problems.append(_at(n, found.message))
            elif not scopes.can(actor, "registry.edit", found):
                problems.append(_at(n, _("您无权为「%(c)s」登记成员单位。") % {"c": found.name}))
            else:
                committee = found
        number = rec["协议编号"]
        if not number:
            problems.append(_at(n, _("协议编号不能为空。")))
        elif len(number) > 40:
            problems.append(_at(n, _("协议编号不超过 40 个字符。")))
        elif number in first_seen_number:
            problems.append(_at(n, _("协议编号 %(num)s 与第 %(row)s 行重复。") % {
                "num": number, "row": first_seen_number[number]}))
        else:
            first_seen_number[number] = n
        dates = {}
        for key, label in (("协议开始日期", _("协议开始日期")), ("协议结束日期", _("协议结束日期"))):
            if not rec[key]:
                problems.append(_at(n, _("%(field)s不能为空。") % {"field": label}))
                continue
            try:
                dates[key] = parse_date(rec[key])
            except ValueError:
                problems.append(_at(n, _("%(field)s「%(v)s」无法识别，请写成 2025-01-31。") % {
                    "field": label, "v": rec[key]}))
        if len(dates) == 2 and dates["协议结束日期"] <= dates["协议开始日期"]:
            problems.append(_at(n, _("协议结束日期必须晚于开始日期。")))
        if len(problems) == before:
            plans.append((n, {"organization": committee, "unit_name": name, "unit_kind": kind,
                              "credit_code": credit_code, "number": number,
                              "starts_on": dates["协议开始日期"], "ends_on": dates["协议结束日期"],
                              "duties": services.split_items(rec["职责清单"]),
                              "commitments": services.split_items(rec["资源承诺"])}, number))
    taken = _hashes_taken(Agreement, "number", [num for _n, _p, num in plans])
    for n, _plan, number in plans:
        if number in taken:
            problems.append(_at(n, _("协议编号 %(n)s 已存在。") % {"n": number}))
    return _write(result, problems, plans, actor=actor, dry_run=dry_run, action="agreement.import", source=source,
                  write=lambda plan: services.member_unit_join(actor=actor, **plan))


def _write(result: ImportResult, issues: list[tuple[int, str]], plans, *, actor, dry_run: bool, action: str,
           source: str, write) -> ImportResult:
    """Write every planned row in one transaction; any refusal rolls the whole file back."""
    if not issues and not dry_run:
        try:
            with transaction.atomic():
                for n, plan, _key in plans:
                    try:
                        write(plan)
                    except GongzhiError as exc:
                        issues.append(_at(n, exc.message))
                if issues:
                    raise _Rollback
                audit.record(actor, action, object_type="org.import", object_id="",
                             after={"rows": len(plans), "source": source[:200]})
                result.created = len(plans)
        except _Rollback:
            pass
    result.problems = [msg for _n, msg in sorted(issues, key=lambda t: t[0])]
    return result


# ---- templates ----

def template_bytes(headers: list[str], text_columns: set[str], notes: list[str]) -> bytes:
    """An empty ledger with the header row; ID, phone and code columns pre-set to text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(_("导入"))
    for i, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i, value=h)
        cell.font = Font(bold=True)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(14, len(h) * 2 + 4)
        if h in text_columns:
            ws.column_dimensions[letter].number_format = "@"
            for r in range(2, 502):  # so Excel keeps typed IDs as text in the rows people fill in
                ws.cell(row=r, column=i).number_format = "@"
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet(sheet_title(_("填写说明"), [ws.title]))
    for i, line in enumerate(notes, start=1):
        help_ws.cell(row=i, column=1, value=line)
    help_ws.column_dimensions["A"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def people_template_response() -> HttpResponse:
    notes = [
        _("第 1 行是表头，请勿修改；数据从第 2 行开始，每行一人。"),
        _("姓名必填；手机号为 11 位；身份证号为 18 位（末位可为 X），请以文本格式填写。"),
        _("性别填 男 或 女；登记社区代码填社区的 12 位统计用区划代码。"),
        _("党员状态填 在职、退休 或 流动（非党员留空）；党员须填写组织关系所在党组织的全称。"),
        _("整个文件全部通过检查才会导入；有任何一行有问题，一行也不会写入，并列出所有问题。"),
    ]
    return _file_response(template_bytes(PEOPLE_HEADERS, PEOPLE_TEXT_COLUMNS, notes), _("人员导入模板"))


def units_template_response() -> HttpResponse:
    notes = [
        _("第 1 行是表头，请勿修改；数据从第 2 行开始，每行一份共建协议。"),
        _("单位类型填：%(kinds)s。") % {"kinds": services.unit_kind_labels()},
        _("所属联合党委填系统中已登记的联合党委或党建联盟的全称。"),
        _("协议编号不能重复；日期写成 2025-01-31；结束日期必须晚于开始日期。"),
        _("职责清单、资源承诺：多项用「；」分隔或在单元格内换行。"),
        _("整个文件全部通过检查才会导入；有任何一行有问题，一行也不会写入，并列出所有问题。"),
    ]
    return _file_response(template_bytes(UNIT_HEADERS, UNIT_TEXT_COLUMNS, notes), _("成员单位导入模板"))


def _file_response(data: bytes, title: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=XLSX_MIME)
    resp["Content-Disposition"] = f"attachment; filename=\"template.xlsx\"; filename*=UTF-8''{quote(title + '.xlsx')}"
    return resp


# ---- ledgers (exports): masked personal data only ----

def _s(value) -> str:
    return "" if value is None else str(value)


def _join(items) -> str:
    return "；".join(str(i) for i in (items or []))


def organizations_ledger(user, *, kind: str = "", q: str = "") -> HttpResponse:
    rows = selectors.organizations_visible_to(user, kind=kind, q=q, action="export.ledger")
    columns = [
        Column(_("名称"), lambda o: o.name, 30),
        Column(_("类型"), lambda o: _s(o.get_kind_display())),
        Column(_("上级组织"), lambda o: o.parent.name if o.parent_id else "", 30),
        Column(_("所在地"), lambda o: o.place.name if o.place_id else ""),
        Column(_("所在地区划代码"), lambda o: o.place.code if o.place_id else ""),
        Column(_("统一社会信用代码"), lambda o: o.credit_code, 22),
    ]
    return xlsx_response(_("组织台账"), columns, rows.iterator(chunk_size=2000))


def units_ledger(user, *, q: str = "") -> HttpResponse:
    rows = selectors.agreements_visible_to(user, q=q, action="export.ledger").order_by(
        "membership__member__name", "id")
    columns = [
        Column(_("成员单位"), lambda a: a.membership.member.name, 30),
        Column(_("单位类型"), lambda a: _s(OrgKind(a.membership.member.kind).label)),
        Column(_("统一社会信用代码"), lambda a: a.membership.member.credit_code, 22),
        Column(_("所属联合党委"), lambda a: a.membership.organization.name, 30),
        Column(_("成员角色"), lambda a: _s(a.membership.get_role_display())),
        Column(_("协议编号"), lambda a: a.number, 20),
        Column(_("协议开始日期"), lambda a: a.starts_on, 14),
        Column(_("协议结束日期"), lambda a: a.ends_on, 14),
        Column(_("职责清单"), lambda a: _join(a.duties), 50),
        Column(_("资源承诺"), lambda a: _join(a.commitments), 40),
        Column(_("协议状态"), lambda a: _s(a.get_status_display())),
    ]
    return xlsx_response(_("成员单位台账"), columns, rows.iterator(chunk_size=2000))


def _party(p):
    return getattr(p, "party", None)


def people_ledger(user, *, q: str = "", community: str = "") -> HttpResponse:
    rows = selectors.people_visible_to(user, q=q, community=community, action="export.ledger")
    columns = [
        Column(_("编号"), lambda p: p.id, 8),
        Column(_("姓名"), lambda p: p.name),
        Column(_("性别"), lambda p: _s(p.get_gender_display())),
        # Masked copies only: a ledger is printed, mailed and forgotten on desktops.
        Column(_("手机号"), lambda p: p.phone_masked),
        Column(_("身份证号"), lambda p: p.id_masked, 22),
        Column(_("登记社区"), lambda p: p.registered_community.name if p.registered_community_id else ""),
        Column(_("党员状态"), lambda p: _s(_party(p).get_status_display()) if _party(p) else ""),
        Column(_("组织关系所在党组织"), lambda p: _party(p).home_organization.name if _party(p) else "", 30),
    ]
    return xlsx_response(_("人员台账"), columns, rows.iterator(chunk_size=2000))


def posts_ledger(user, *, title: str = "", q: str = "") -> HttpResponse:
    rows = selectors.posts_visible_to(user, title=title, q=q, action="export.ledger")
    columns = [
        Column(_("姓名"), lambda p: p.person.name),
        Column(_("职务"), lambda p: _s(p.get_title_display())),
        Column(_("范围"), lambda p: str(p.grid or p.place or p.organization), 30),
        Column(_("任职开始日期"), lambda p: p.starts_on, 14),
        Column(_("任职结束日期"), lambda p: p.ends_on or "", 14),
    ]
    return xlsx_response(_("职务台账"), columns, rows.iterator(chunk_size=2000))
