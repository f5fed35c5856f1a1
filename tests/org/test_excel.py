"""Excel imports (all or nothing, every problem with its row), templates, commands and ledgers."""

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse

from gongzhi.core.models import AuditEntry
from gongzhi.org import excel_io, services
from gongzhi.org.models import Agreement, Organization, Person
from tests.org.helpers import all_cells, bad_check_digit, id_number, open_xlsx, phone, xlsx

pytestmark = pytest.mark.django_db

P = excel_io.PEOPLE_HEADERS
U = excel_io.UNIT_HEADERS


def people_file(rows):
    return xlsx(P, rows)


def good_people():
    return people_file([
        ["王五", phone(11), id_number(11), "男", "450102001004", "在职", "北宁社区党委"],
        ["赵六", 13900000012, id_number(12), "女", "450102001004", "", ""],  # a phone typed as a number
        ["孙七", "", "", "", "450102001004", "流动党员", "北宁社区党委"],
    ])


def bad_people():
    return people_file([
        ["王五", phone(21), id_number(21), "男", "450102001004", "在职", "北宁社区党委"],  # row 2: fine
        ["赵六", phone(22), bad_check_digit(id_number(22)), "", "450102001004", "", ""],  # row 3
        ["孙七", "1234", id_number(23), "", "450102001999", "", ""],  # row 4: phone and community
        ["周八", "", id_number(21), "", "450102001004", "", ""],  # row 5: same ID as row 2
        ["", "", "", "未知", "450102001004", "党员", ""],  # row 6: name, gender, status, home org
        ["吴九", "", id_number(1), "", "450102001004", "", ""],  # row 7: already registered (张三)
        ["郑十", "", "", "", "450102001004", "在职", "没有这个支部"],  # row 8
    ])


# ---- people import ----

def test_a_good_people_file_creates_every_row(reg):
    result = excel_io.import_people(good_people(), actor=reg.worker)
    assert result.ok and result.created == 3, result.problems
    wang = Person.objects.get(name="王五")
    assert wang.phone_masked == "139****0011" and wang.gender == "M" and wang.party.status == "in_service"
    assert wang.party.home_organization == reg.beining
    assert Person.objects.get(name="赵六").phone_masked == "139****0012"
    assert Person.objects.get(name="孙七").party.status == "floating"
    assert AuditEntry.objects.filter(action="person.create").count() == 2 + 3  # the fixture's two, then three
    assert AuditEntry.objects.filter(action="person.import").count() == 1


def test_a_bad_people_file_reports_every_problem_with_its_row_and_writes_nothing(reg):
    people, audits = Person.objects.count(), AuditEntry.objects.count()
    result = excel_io.import_people(bad_people(), actor=reg.worker)
    assert not result.ok and result.created == 0
    text = "\n".join(result.problems)
    for expected in (
        "第 3 行：身份证号校验位不正确",
        "第 4 行：手机号应为 11 位数字",
        "第 4 行：社区 450102001999 不存在",
        "第 5 行：身份证号与第 2 行重复",
        "第 6 行：姓名不能为空",
        "第 6 行：性别只能填 男 或 女",
        "第 6 行：党员状态只能填 在职、退休 或 流动",
        "第 6 行：党员必须填写组织关系所在党组织",
        "第 7 行：身份证号 4501**********",
        "第 8 行：党组织「没有这个支部」不存在",
    ):
        assert expected in text, (expected, text)
    assert "第 2 行" not in text.replace("与第 2 行重复", "")
    rows = [int(p.split(" ")[1]) for p in result.problems]
    assert rows == sorted(rows)
    assert (Person.objects.count(), AuditEntry.objects.count()) == (people, audits)


def test_rows_outside_the_importers_scope_are_problems(reg):
    f = people_file([["王五", "", "", "", "450102001004", "", ""], ["赵六", "", "", "", "450102001003", "", ""]])
    result = excel_io.import_people(f, actor=reg.worker_x)
    assert result.problems == ["第 2 行：您无权在「北宁社区」登记人员。"]
    assert not Person.objects.filter(name__in=["王五", "赵六"]).exists()


def test_file_level_problems(reg):
    assert "缺少列：身份证号" in excel_io.import_people(xlsx(["姓名", "手机号"], [["王五", ""]]), actor=reg.worker
                                                 ).problems[0]
    assert "没有数据行" in excel_io.import_people(people_file([]), actor=reg.worker).problems[0]
    junk = io.BytesIO(b"not a workbook")
    assert "无法读取文件" in excel_io.import_people(junk, actor=reg.worker).problems[0]


def test_headers_may_drop_the_hint_in_brackets(reg):
    headers = [h.replace("(在职/退休/流动)", "") for h in P]
    result = excel_io.import_people(xlsx(headers, [["王五", "", "", "", "450102001004", "退休", "北宁社区党委"]]),
                                    actor=reg.worker)
    assert result.ok and Person.objects.get(name="王五").party.status == "retired"


def test_dry_run_checks_but_writes_nothing(reg):
    result = excel_io.import_people(good_people(), actor=reg.worker, dry_run=True)
    assert result.ok and result.rows == 3 and result.created == 0
    assert not Person.objects.filter(name="王五").exists()


# ---- member units import ----

def units_file(rows):
    return xlsx(U, rows)


def test_a_good_units_file_creates_units_and_agreements(reg):
    f = units_file([
        ["南宁供电局", "国有企业", "91450100MA5KXXXX1A", "北宁社区联合党委", "BN-2025-001", "2025-01-01", "2027-12-31",
         "认领微心愿；开放会议室\n结对帮扶", "会议室每月 4 次"],
        ["兴宁区医院", "事业单位", "", "北宁社区联合党委", "BN-2025-002", "2025/3/1", "2028年2月28日", "义诊", ""],
    ])
    result = excel_io.import_units(f, actor=reg.worker)
    assert result.ok and result.created == 2, result.problems
    a = Agreement.objects.get(number="BN-2025-001")
    assert a.membership.organization == reg.joint and a.membership.member.kind == "state_enterprise"
    assert a.duties == ["认领微心愿", "开放会议室", "结对帮扶"] and a.commitments == ["会议室每月 4 次"]
    b = Agreement.objects.get(number="BN-2025-002")
    assert str(b.starts_on) == "2025-03-01" and str(b.ends_on) == "2028-02-28"


def test_a_bad_units_file_reports_every_problem_and_writes_nothing(reg):
    services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name="旧单位", unit_kind="institution",
                              number="OLD-1", starts_on="2024-01-01", ends_on="2025-01-01")
    orgs, agreements = Organization.objects.count(), Agreement.objects.count()
    f = units_file([
        ["南宁供电局", "国有企业", "", "北宁社区联合党委", "N-1", "2025-01-01", "2027-12-31", "", ""],  # row 2 fine
        ["兴宁区医院", "医院", "", "北宁社区联合党委", "N-2", "2025-06-01", "2025-01-01", "", ""],  # row 3
        ["某公司", "非公企业", "abc", "不存在的联合党委", "N-1", "2025-01-01", "2026-01-01", "", ""],  # row 4
        ["某协会", "社会组织", "", "兴宁社区联合党委", "OLD-1", "明年", "2026-01-01", "", ""],  # row 5
    ])
    result = excel_io.import_units(f, actor=reg.worker)
    text = "\n".join(result.problems)
    for expected in (
        "第 3 行：单位类型「医院」不正确",
        "第 3 行：协议结束日期必须晚于开始日期",
        "第 4 行：统一社会信用代码应为 18 位",
        "第 4 行：联合党委或党建联盟「不存在的联合党委」不存在",
        "第 4 行：协议编号 N-1 与第 2 行重复",
        "第 5 行：联合党委或党建联盟「兴宁社区联合党委」不存在",  # out of the worker's scope: not visible
        "第 5 行：协议开始日期「明年」无法识别",
    ):
        assert expected in text, (expected, text)
    assert result.created == 0
    assert (Organization.objects.count(), Agreement.objects.count()) == (orgs, agreements)


def test_an_agreement_number_already_in_the_database_is_a_problem(reg):
    services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name="旧单位", unit_kind="institution",
                              number="OLD-1", starts_on="2024-01-01", ends_on="2025-01-01")
    f = units_file([["某协会", "社会组织", "", "北宁社区联合党委", "OLD-1", "2025-01-01", "2026-01-01", "", ""]])
    assert excel_io.import_units(f, actor=reg.worker).problems == ["第 2 行：协议编号 OLD-1 已存在。"]


# ---- the pages ----

def test_upload_on_the_people_page_shows_the_result(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:people_import"), {"file": good_people()})
    assert r.status_code == 200 and "已导入 3 行" in r.content.decode()
    assert "王五" in r.content.decode()  # the list below shows the new people


def test_upload_of_a_bad_file_lists_all_problems_on_the_page(client, reg):
    client.force_login(reg.worker)
    people = Person.objects.count()
    r = client.post(reverse("org:people_import"), {"file": bad_people()})
    html = r.content.decode()
    assert r.status_code == 400 and "未导入任何数据" in html
    assert "第 3 行：身份证号校验位不正确" in html and "第 8 行：党组织「没有这个支部」不存在" in html
    assert Person.objects.count() == people


def test_upload_of_units_on_the_units_page(client, reg):
    client.force_login(reg.worker)
    f = units_file([["南宁供电局", "国有企业", "", "北宁社区联合党委", "N-1", "2025-01-01", "2027-12-31", "", ""]])
    r = client.post(reverse("org:units_import"), {"file": f})
    assert r.status_code == 200 and "已导入 1 行" in r.content.decode() and "N-1" in r.content.decode()


def test_upload_of_something_else_than_xlsx_is_refused(client, reg):
    client.force_login(reg.worker)
    junk = io.BytesIO(b"a,b\n")
    junk.name = "people.csv"
    r = client.post(reverse("org:people_import"), {"file": junk})
    assert r.status_code == 400 and "请上传 .xlsx" in r.content.decode()


@pytest.mark.parametrize("name, headers", [("org:people_template", P), ("org:units_template", U)])
def test_templates_have_the_header_row_and_round_trip(client, reg, name, headers):
    client.force_login(reg.worker)
    r = client.get(reverse(name))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = open_xlsx(r.content)
    assert [c.value for c in next(ws.iter_rows(max_row=1))] == headers
    # The template comes back as an empty (but well-formed) file.
    assert "没有数据行" in excel_io.import_people(io.BytesIO(r.content), actor=reg.worker).problems[0]


# ---- the commands ----

def test_import_people_command_exit_0_on_success(reg, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(good_people().getvalue())
    out = io.StringIO()
    call_command("import_people", str(path), stdout=out, stderr=io.StringIO())
    assert "已导入 3 行" in out.getvalue()
    assert Person.objects.filter(name__in=["王五", "赵六", "孙七"]).count() == 3
    entry = AuditEntry.objects.filter(action="person.import").get()
    assert entry.actor is None and entry.actor_name == "cli"


def test_import_people_command_exit_1_lists_problems(reg, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(bad_people().getvalue())
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_people", str(path), stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert "第 3 行：身份证号校验位不正确" in err.getvalue() and "未导入任何数据" in err.getvalue()
    assert not Person.objects.filter(name="王五").exists()


def test_import_units_command_as_a_named_user(reg, tmp_path):
    path = tmp_path / "units.xlsx"
    path.write_bytes(units_file([["某协会", "社会组织", "", "兴宁社区联合党委", "X-1", "2025-01-01", "2026-01-01", "",
                                  ""]]).getvalue())
    with pytest.raises(SystemExit):  # worker_b's scope does not reach 兴宁社区
        call_command("import_units", str(path), "--user", "worker_b", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_units", str(path), "--user", "worker_x", stdout=out, stderr=io.StringIO())
    assert "已导入 1 行" in out.getvalue() and Agreement.objects.filter(number="X-1").exists()


@pytest.mark.parametrize("command", ["import_people", "import_units"])
def test_commands_have_help(command):
    r = subprocess.run([sys.executable, "-m", "gongzhi.cli", command, "--help"], capture_output=True, text=True,
                       timeout=60)
    text = " ".join(r.stdout.split())  # argparse wraps the help text
    assert r.returncode == 0 and "Exit code 0 = imported, 1 = problems" in text and "--dry-run" in text


# ---- ledgers ----

def test_people_ledger_is_a_valid_xlsx_with_masked_values_only(client, reg):
    services.person_create(actor=reg.admin, name="=cmd|' /C calc'!A0", phone=phone(9), id_number=id_number(9),
                           registered_community=reg.tree["beining"])
    client.force_login(reg.worker)
    r = client.get(reverse("org:people_export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = open_xlsx(r.content)
    values = [str(c.value) for c in all_cells(ws) if c.value is not None]
    assert "138****5678" in values and "139****0009" in values
    for clear in ("13812345678", id_number(1), phone(9), id_number(9)):
        assert not any(clear in v for v in values)
    assert "李四" not in values  # 兴宁社区 is outside the worker's scope
    injected = [c for c in all_cells(ws) if c.value and "cmd|" in str(c.value)]
    assert len(injected) == 1 and injected[0].data_type == "s" and not str(injected[0].value).startswith("=")


@pytest.mark.parametrize("name, expected", [
    ("org:org_export", "北宁社区联合党委"), ("org:units_export", "BN-7"), ("org:posts_export", "书记"),
])
def test_every_ledger_exports_the_users_scope(client, reg, name, expected):
    services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name="南宁供电局", unit_kind="state_enterprise",
                              number="BN-7", starts_on="2025-01-01", ends_on="2027-01-01", duties=["甲", "乙"])
    services.post_assign(actor=reg.admin, person=reg.zhang, title="secretary", starts_on="2025-01-01",
                         organization=reg.joint)
    client.force_login(reg.worker)
    values = [str(c.value) for c in all_cells(open_xlsx(client.get(reverse(name)).content)) if c.value is not None]
    assert expected in values
    client.force_login(reg.worker_x)
    values = [str(c.value) for c in all_cells(open_xlsx(client.get(reverse(name)).content)) if c.value is not None]
    assert expected not in values


def test_every_list_page_links_its_ledger(client, reg):
    client.force_login(reg.worker)
    for page, ledger in (("org:tree", "org:org_export"), ("org:units", "org:units_export"),
                         ("org:people", "org:people_export"), ("org:posts", "org:posts_export")):
        html = client.get(reverse(page)).content.decode()
        assert "导出台账" in html and reverse(ledger) in html
