"""The owners' register (业主名册) of a compound: imported from Excel all or nothing (service, command,
API, page), read by the art. 278 tally, replaced by a re-import, frozen while a vote is open."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from gongzhi.core.errors import Conflict, PermissionDenied
from gongzhi.core.exports import XLSX_MIME
from gongzhi.core.models import AuditEntry
from gongzhi.deliberation import tally
from gongzhi.deliberation.models import OwnedUnit, Proposal, UnitOwner
from gongzhi.deliberation.services import register
from gongzhi.org import services as org_services
from gongzhi.org.models import Person
from gongzhi.places.models import PlaceKind
from tests.factories import PASSWORD, place, user
from tests.org.helpers import bad_check_digit, id_number, phone

from .conftest import bearer

API = "/api/v1/deliberation/register"
HEADERS = register.REGISTER_HEADERS
ZHANG, LI, WANG = id_number(11), id_number(12), id_number(13)


def book(rows, headers=HEADERS) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "register.xlsx"
    return buf


# Row 2.. : 1栋-101 has two owners (张三 represents it), 张三 also owns 1栋-102 alone, 王五 (phone only, "是"
# left blank as the sole owner) owns 2栋-201, and the developer still holds 2栋-202 and 2栋-203.
GOOD = [
    ["1栋", "101", "90.50", "张三", ZHANG, phone(1), "是", ""],
    ["1栋", "101", "90.50", "李四", LI, "", "否", ""],
    ["1栋", "102", 80, "张三", ZHANG, phone(1), "是", "否"],
    ["2栋", "201", "100.25", "王五", "", phone(3), "", ""],
    ["2栋", "202", "60", "", "", "", "", "是"],
    ["2栋", "203", "70.10", "", "", "", "", "是"],
]


def good():
    return book(GOOD)


@pytest.fixture
def compound(world):
    return place(PlaceKind.COMPOUND, "450102001004001", "北宁花园", world.beining)


def vote_open(compound, state="voting"):
    """A proposal of the compound: voting since yesterday, or (state "discussion") opening tomorrow."""
    now = timezone.now()
    opens = now - dt.timedelta(days=1) if state == "voting" else now + dt.timedelta(days=1)
    return Proposal.objects.create(place=compound, title="更换物业公司", body="……", electorate="owners",
                                   matter="ordinary", discussion_until=opens - dt.timedelta(days=1),
                                   opens_at=opens, closes_at=now + dt.timedelta(days=6),
                                   state=state, place_path=compound.path)


def imported(world, compound, rows=None, **kw):
    return register.import_register(actor=world.cw, compound=compound, fileobj=book(rows or GOOD), **kw)


# ---- the service ----

def test_a_good_import_writes_the_register_the_tally_reads(db, world, compound):
    result = imported(world, compound, source="花名册.xlsx")
    assert result.ok, result.problems
    assert (result.units, result.owners, result.developer_units) == (5, 3, 2)
    assert result.total_area == Decimal("400.85")
    assert (result.people_created, result.people_matched, result.rows) == (3, 0, 6)

    units = {f"{u.building}-{u.unit_no}": u for u in OwnedUnit.objects.filter(compound=compound)}
    assert set(units) == {"1栋-101", "1栋-102", "2栋-201", "2栋-202", "2栋-203"}
    assert all(u.place_path == compound.path for u in units.values())
    assert units["1栋-101"].area == Decimal("90.50") and units["2栋-202"].developer_unsold
    assert not units["2栋-202"].owners.exists()
    zhang = Person.objects.get(name="张三")
    assert UnitOwner.objects.filter(person=zhang).count() == 2  # one person for both of his units
    assert set(units["1栋-101"].owners.values_list("person__name", "representative")) == {("张三", True),
                                                                                          ("李四", False)}
    assert units["2栋-201"].owners.get().representative  # the sole owner represents the unit
    # Registered in the compound's community, with no plain phone or ID number stored anywhere.
    assert zhang.registered_community == world.beining and zhang.id_masked.endswith(ZHANG[-4:])
    assert ZHANG not in zhang.id_enc and phone(1) not in zhang.phone_enc and zhang.id_hash

    rows = register.register_rows(compound)
    assert len(rows) == 5 and ("2栋-202", "developer", Decimal("60.00")) in rows
    owners = tally.owners_from_register(rows)
    assert len(owners) == 3
    assert owners[f"person:{zhang.pk}"].area_centi == 17050 and len(owners[f"person:{zhang.pk}"].units) == 2
    assert owners["developer"].area_centi == 13010
    assert sum(o.area_centi for o in owners.values()) == 40085
    assert register.register_summary(compound) == {"units": 5, "owners": 3, "total_area": Decimal("400.85"),
                                                   "developer_units": 2, "people": 3}
    entry = AuditEntry.objects.get(action="deliberation.register_import")
    assert entry.object_id == str(compound.pk) and entry.after["owners"] == 3 and entry.after["units"] == 5
    assert entry.after["total_area"] == "400.85" and entry.actor == world.cw
    assert AuditEntry.objects.filter(action="person.create").count() == 3
    assert ZHANG not in str(list(AuditEntry.objects.values_list("after", flat=True)))


def test_owners_are_matched_to_people_already_registered(db, world, compound):
    zhang = org_services.person_create(actor=world.cw, name="张三", id_number=ZHANG,
                                       registered_community=world.beining)
    wang = org_services.person_create(actor=world.cw, name="王五", phone=phone(3), registered_community=world.beining)
    # The same phone under another name is someone else (a couple may share one phone).
    other = org_services.person_create(actor=world.cw, name="王五妻", phone=phone(1),
                                       registered_community=world.beining)
    result = imported(world, compound)
    assert result.ok and (result.people_matched, result.people_created) == (2, 1)
    assert UnitOwner.objects.filter(person=zhang).count() == 2 and UnitOwner.objects.filter(person=wang).count() == 1
    assert not UnitOwner.objects.filter(person=other).exists()
    assert Person.objects.filter(name="张三").count() == 1


def test_dry_run_checks_everything_and_writes_nothing(db, world, compound):
    result = imported(world, compound, dry_run=True)
    assert result.ok and result.dry_run and (result.units, result.owners) == (5, 3)
    assert result.total_area == Decimal("400.85") and result.people_created == 3
    assert not OwnedUnit.objects.exists() and not Person.objects.exists() and not AuditEntry.objects.exists()


def _with(row: int, **cells) -> list[list]:
    """GOOD with the cells of Excel row `row` (2 = the first data row) changed, by header name."""
    rows = [list(r) for r in GOOD]
    for name, value in cells.items():
        rows[row - 2][[h[:len(name)] for h in HEADERS].index(name)] = value
    return rows


BAD = {
    "area_zero": (_with(3, 专有面积="0"), 3, "专有面积"),
    "area_negative": (_with(2, 专有面积="-5"), 2, "专有面积"),
    "area_three_decimals": (_with(5, 专有面积="100.255"), 5, "专有面积"),
    "area_not_a_number": (_with(5, 专有面积="一百"), 5, "专有面积"),
    "area_empty": (_with(5, 专有面积=""), 5, "专有面积"),
    "same_unit_other_area": (_with(3, 专有面积="91.50"), 3, "第 2 行"),
    "two_representatives": (_with(3, 投票代表="是"), 3, "只能有一位投票代表"),
    "no_representative": (_with(2, 投票代表="否"), 2, "没有投票代表"),
    "no_name": (_with(3, 业主姓名=""), 3, "业主姓名"),
    "bad_id_number": (_with(3, 身份证号=bad_check_digit(LI)), 3, "身份证号"),
    "no_id_and_no_phone": (_with(5, 手机号=""), 5, "身份证号或手机号"),
    "unsold_with_an_owner": (_with(6, 业主姓名="赵六"), 6, "开发商未售"),
    "unsold_and_owned": (GOOD + [["2栋", "202", "60", "赵六", id_number(20), "", "是", ""]], 8, "开发商未售"),
    "bad_yes_no": (_with(7, 开发商未售="可能"), 7, "是 或 否"),
    "one_id_two_names": (_with(4, 业主姓名="张叁"), 4, "姓名却不同"),
    "owner_twice_in_a_unit": (GOOD + [["1栋", "101", "90.50", "李四", LI, "", "否", ""]], 8, "重复登记"),
    "bad_phone": (_with(5, 手机号="12345"), 5, "手机号"),
    "empty_building": (_with(4, 楼栋=""), 4, "楼栋"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_row_writes_nothing_and_names_its_row(db, world, compound, case):
    rows, row, words = BAD[case]
    people = Person.objects.count()
    result = imported(world, compound, rows=rows)
    assert not result.ok
    assert any(n == row and f"第 {row} 行" in message and words in message for n, message in result.problems), \
        result.problems
    assert not OwnedUnit.objects.exists() and Person.objects.count() == people
    assert not AuditEntry.objects.filter(action="deliberation.register_import").exists()


def test_every_problem_of_a_file_is_reported_in_row_order(db, world, compound):
    rows = _with(3, 业主姓名="")
    rows[4][2] = "0"  # row 6
    rows[2][4] = bad_check_digit(ZHANG)  # row 4
    result = imported(world, compound, rows=rows)
    assert [n for n, _m in result.problems] == [3, 4, 6]


def test_missing_headers_and_unreadable_files(db, world, compound):
    result = register.import_register(actor=world.cw, compound=compound, fileobj=book(GOOD, HEADERS[:-1]))
    assert result.problems[0][0] == 1 and "缺少列" in result.problems[0][1] and "开发商未售" in result.problems[0][1]
    # Headers without their bracketed notes are the same columns.
    short = ["楼栋", "房号", "专有面积", "业主姓名", "身份证号", "手机号", "投票代表", "开发商未售"]
    assert register.import_register(actor=world.cw, compound=compound, fileobj=book(GOOD, short)).ok
    junk = io.BytesIO(b"not a workbook")
    result = register.import_register(actor=world.cw, compound=compound, fileobj=junk)
    assert not result.ok and ".xlsx" in result.problems[0][1]
    assert not register.import_register(actor=world.cw, compound=compound, fileobj=book([])).ok


def test_a_reimport_replaces_the_register(db, world, compound):
    assert imported(world, compound).ok
    first_zhang = Person.objects.get(name="张三")
    again = imported(world, compound, rows=[GOOD[0], GOOD[1], ["3栋", "301", "120", "孙七", "", phone(7), "是", ""]])
    assert again.ok and (again.units, again.owners, again.people_matched, again.people_created) == (2, 2, 2, 1)
    assert set(OwnedUnit.objects.filter(compound=compound).values_list("building", "unit_no")) == {
        ("1栋", "101"), ("3栋", "301")}
    assert Person.objects.filter(name="张三").get() == first_zhang  # matched again, not registered twice
    assert register.register_summary(compound)["total_area"] == Decimal("210.50")
    entry = AuditEntry.objects.filter(action="deliberation.register_import").order_by("-id").first()
    assert entry.before == {"units": 5, "total_area": "400.85"} and entry.after["units"] == 2
    # Another compound's register is not touched.
    other = place(PlaceKind.COMPOUND, "450102001004002", "北宁小区", world.beining)
    assert imported(world, other, rows=GOOD[3:4]).ok
    assert OwnedUnit.objects.filter(compound=compound).count() == 2


def test_refused_while_a_vote_is_open(db, world, compound):
    assert imported(world, compound).ok
    vote_open(compound, state="discussion")  # a proposal still under discussion does not freeze it
    assert imported(world, compound, rows=GOOD[:3]).ok
    vote_open(compound)
    with pytest.raises(Conflict) as exc:
        imported(world, compound, rows=GOOD)
    assert exc.value.code == "vote_open"
    # The clock decides, not the stored state: a vote past its opening freezes the register before the
    # worker's round marks it as voting.
    Proposal.objects.update(state="discussion")
    with pytest.raises(Conflict):
        imported(world, compound, rows=GOOD)
    assert OwnedUnit.objects.filter(compound=compound).count() == 2  # as the previous import left it
    assert imported(world, compound, dry_run=True).ok  # checking a file is still possible


@pytest.mark.parametrize("who", ["cw_x", "resident", "auditor"])
def test_only_managers_of_the_compound_import(db, world, compound, who):
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        register.import_register(actor=actor, compound=compound, fileobj=good())
    assert not OwnedUnit.objects.exists()


def test_a_street_officer_imports_and_reads(db, world, compound):
    officer = user("street", ("street_officer", world.tree["street"]))
    assert register.import_register(actor=officer, compound=compound, fileobj=good()).ok
    assert register.register_for(world.auditor, compound) == compound
    for who in (world.cw_x, world.resident):
        with pytest.raises(PermissionDenied):
            register.register_for(who, compound)


def test_the_voter_key_of_a_signed_in_owner(db, world, compound):
    assert imported(world, compound).ok
    zhang, li = Person.objects.get(name="张三"), Person.objects.get(name="李四")
    zhang.user = world.resident
    zhang.save()
    li_user = user("lisi", ("resident", world.beining))
    li.user = li_user
    li.save()
    assert register.voter_key_of(world.resident, compound) == f"person:{zhang.pk}"
    assert register.voter_key_of(li_user, compound) is None  # a co-owner votes through the representative
    assert register.voter_key_of(world.cw, compound) is None
    other = place(PlaceKind.COMPOUND, "450102001004002", "北宁小区", world.beining)
    assert register.voter_key_of(world.resident, other) is None


# ---- the command ----

def _file(tmp_path, rows=None) -> str:
    path = tmp_path / "名册.xlsx"
    path.write_bytes(book(rows or GOOD).getvalue())
    return str(path)


def test_command_imports_and_dry_runs(db, world, compound, tmp_path):
    path = _file(tmp_path)
    out = io.StringIO()
    call_command("import_owners", compound.code, path, "--dry-run", stdout=out, stderr=io.StringIO())
    assert "检查通过" in out.getvalue() and not OwnedUnit.objects.exists()
    out = io.StringIO()
    call_command("import_owners", compound.code, path, stdout=out, stderr=io.StringIO())
    assert "已导入 6 行" in out.getvalue() and "3 位业主" in out.getvalue() and "400.85" in out.getvalue()
    assert OwnedUnit.objects.filter(compound=compound).count() == 5
    entry = AuditEntry.objects.get(action="deliberation.register_import")
    assert entry.actor is None and entry.actor_name == "cli"


def test_command_reports_problems_and_refusals(db, world, compound, tmp_path):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_owners", compound.code, _file(tmp_path, BAD["area_zero"][0]), stdout=io.StringIO(),
                     stderr=err)
    assert exit_.value.code == 1 and "第 3 行" in err.getvalue() and "未导入任何数据" in err.getvalue()
    assert not OwnedUnit.objects.exists()
    with pytest.raises(CommandError, match="不存在"):
        call_command("import_owners", "999999999999999", _file(tmp_path), stdout=io.StringIO())
    with pytest.raises(CommandError):  # 兴宁社区's worker does not manage 北宁花园
        call_command("import_owners", compound.code, _file(tmp_path), "--user", "cw_x", stdout=io.StringIO())
    vote_open(compound)
    with pytest.raises(CommandError, match="正在投票"):
        call_command("import_owners", compound.code, _file(tmp_path), stdout=io.StringIO())
    assert not OwnedUnit.objects.exists()


# ---- the API ----

def _upload(rows=None, name="register.xlsx"):
    return SimpleUploadedFile(name, book(rows or GOOD).getvalue(), content_type=XLSX_MIME)


def test_api_import_and_read(client, world, compound):
    url = f"{API}/{compound.pk}/import"
    r = client.post(url, {"file": _upload(), "dry_run": "true"}, **bearer(world.cw))
    assert r.status_code == 200, r.content
    assert r.json()["dry_run"] is True and r.json()["owners"] == 3 and not OwnedUnit.objects.exists()
    r = client.post(url, {"file": _upload()}, **bearer(world.cw))
    assert r.status_code == 200 and r.json()["total_area"] == "400.85" and r.json()["units"] == 5

    got = client.get(f"{API}/{compound.pk}", {"limit": 2}, **bearer(world.auditor))
    assert got.status_code == 200
    body = got.json()
    assert body["summary"] == {"units": 5, "owners": 3, "total_area": "400.85", "developer_units": 2, "people": 3}
    assert len(body["items"]) == 2 and body["has_next"] is True
    first = body["items"][0]
    assert first["building"] == "1栋" and first["area"] == "90.50"
    assert [(o["name"], o["representative"]) for o in first["owners"]] == [("张三", True), ("李四", False)]
    page3 = client.get(f"{API}/{compound.pk}", {"limit": 2, "page": 3}, **bearer(world.cw)).json()
    assert page3["has_next"] is False and page3["items"][0]["developer_unsold"] is True
    # Names only: no phone or ID number, not even masked.
    text = got.content.decode()
    assert phone(1) not in text and ZHANG not in text and ZHANG[-4:] not in text and "****" not in text


def test_api_errors(client, world, compound):
    url = f"{API}/{compound.pk}/import"
    r = client.post(url, {"file": _upload(BAD["no_representative"][0])}, **bearer(world.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "register_invalid"
    problems = r.json()["error"]["problems"]
    assert problems[0]["row"] == 2 and "第 2 行" in problems[0]["message"] and not OwnedUnit.objects.exists()
    assert client.post(url, {"file": _upload()}, **bearer(world.cw_x)).status_code == 403
    assert client.post(url, {"file": _upload()}, **bearer(world.resident)).status_code == 403
    assert client.post(url, {"file": _upload()}, **bearer(world.auditor)).status_code == 403
    assert client.post(url, {"file": _upload()}).status_code == 401
    assert client.get(f"{API}/{compound.pk}", **bearer(world.resident)).status_code == 403
    assert client.get(f"{API}/{world.beining.pk}", **bearer(world.cw)).status_code == 404  # not a compound
    vote_open(compound)
    r = client.post(url, {"file": _upload()}, **bearer(world.cw))
    assert r.status_code == 409 and r.json()["error"]["code"] == "vote_open"


def test_api_template(client, world, compound):
    r = client.get(f"{API}/{compound.pk}/template.xlsx", **bearer(world.cw))
    assert r.status_code == 200 and r["Content-Type"] == XLSX_MIME
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS
    assert client.get(f"{API}/{compound.pk}/template.xlsx", **bearer(world.cw_x)).status_code == 403


# ---- the pages ----

def _login(client, username):
    assert client.login(username=username, password=PASSWORD)


def test_page_check_then_import_then_read(client, world, compound):
    _login(client, "cw")
    url = reverse("deliberation:register", args=[compound.pk])
    page = client.get(url)
    assert page.status_code == 200 and "register-empty" in page.content.decode()
    assert "register-import" in page.content.decode()
    action = reverse("deliberation:register_import", args=[compound.pk])
    checked = client.post(action, {"file": _upload(), "dry_run": "1"})
    assert checked.status_code == 200 and "检查通过" in checked.content.decode() and not OwnedUnit.objects.exists()
    done = client.post(action, {"file": _upload(), "dry_run": "0"})
    assert done.status_code == 302 and done["Location"] == url
    html = client.get(url).content.decode()
    assert "业主名册已导入" in html and "张三" in html and "李四" in html and "开发商未售" in html
    assert '<div class="scroll-x"><table class="register"' in html  # a phone scrolls the table, not the page
    assert 'data-testid="fig-owners">3<' in html and 'data-testid="fig-area">400.85<' in html
    assert phone(1) not in html and ZHANG not in html
    assert reverse("deliberation:register_export", args=[compound.pk]) in html

    export = client.get(reverse("deliberation:register_export", args=[compound.pk]))
    assert export.status_code == 200 and export["Content-Type"] == XLSX_MIME
    cells = [[c.value for c in row] for row in load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows()]
    assert cells[0][:4] == ["楼栋", "房号", "专有面积（平方米）", "业主姓名"] and len(cells) == 1 + 6
    assert ["1栋", "101", 90.5, "李四", "否", "否"] in cells
    assert not any(str(v).startswith(("139", ZHANG[:6])) for row in cells for v in row)
    template = client.get(reverse("deliberation:register_template", args=[compound.pk]))
    assert template.status_code == 200 and template["Content-Type"] == XLSX_MIME

    index = client.get(reverse("deliberation:register_index")).content.decode()
    assert "北宁花园" in index


def test_page_lists_the_problems_of_a_bad_file(client, world, compound):
    _login(client, "cw")
    action = reverse("deliberation:register_import", args=[compound.pk])
    r = client.post(action, {"file": _upload(BAD["two_representatives"][0]), "dry_run": "0"})
    html = r.content.decode()
    assert r.status_code == 400 and "register-problems" in html and "第 3 行" in html and "未导入任何数据" in html
    assert not OwnedUnit.objects.exists()
    r = client.post(action, {"file": SimpleUploadedFile("名册.csv", b"a,b"), "dry_run": "0"})
    assert r.status_code == 400 and ".xlsx" in r.content.decode()
    vote_open(compound)
    r = client.post(action, {"file": _upload(), "dry_run": "0"})
    assert r.status_code == 409 and "正在投票" in r.content.decode() and not OwnedUnit.objects.exists()


def test_page_permissions(client, world, compound):
    url = reverse("deliberation:register", args=[compound.pk])
    _login(client, "jumin")
    assert client.get(url).status_code == 403
    assert client.post(reverse("deliberation:register_import", args=[compound.pk]),
                       {"file": _upload(), "dry_run": "0"}).status_code == 403
    assert "北宁花园" not in client.get(reverse("deliberation:register_index")).content.decode()
    _login(client, "cw_x")
    assert client.get(url).status_code == 403
    assert client.get(reverse("deliberation:register_export", args=[compound.pk])).status_code == 403
    _login(client, "auditor")
    html = client.get(url).content.decode()
    assert "北宁花园" in html and "register-import" not in html  # reads, no upload form
    assert client.post(reverse("deliberation:register_import", args=[compound.pk]),
                       {"file": _upload(), "dry_run": "0"}).status_code == 403
    assert not OwnedUnit.objects.exists()
    assert client.get(reverse("deliberation:register", args=[world.beining.pk])).status_code == 404


def test_page_is_paginated_by_fifty(client, world, compound):
    OwnedUnit.objects.bulk_create([OwnedUnit(compound=compound, building="9栋", unit_no=f"{k:03d}", area=50,
                                             developer_unsold=True, place_path=compound.path) for k in range(60)])
    _login(client, "cw")
    url = reverse("deliberation:register", args=[compound.pk])
    first = client.get(url).content.decode()
    assert first.count('data-testid="unit-row"') == 50 and "?page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('data-testid="unit-row"') == 10
    assert 'data-testid="fig-units">60<' in second and 'data-testid="fig-owners">1<' in second


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_register_does_not_overflow(browser, live_server, world, compound, tmp_path):
    rows = GOOD + [[f"{k}栋很长很长的楼栋名称", f"{k:04d}", "88.88", "欧阳长长的名字", id_number(100 + k), "", "是",
                    ""] for k in range(12)]
    assert imported(world, compound, rows=rows).ok
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "cw")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + reverse("deliberation:register", args=[compound.pk]))
    assert page.locator("[data-testid=fig-owners]").inner_text() == "15"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    path = tmp_path / "bad.xlsx"
    path.write_bytes(book(BAD["no_name"][0]).getvalue())
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=register-check]")
    assert "第 3 行" in page.locator("[data-testid=register-problems]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ctx.close()
