"""Time bank pages: my hours and credits, forms that refuse with a message, staff pages in scope."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from gongzhi.timebank import services
from gongzhi.timebank.models import TimeTransaction
from tests.timebank.conftest import credit

D = Decimal


@pytest.fixture
def li_setup(town):
    credit(town.li, 4)
    services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    return town


def test_home_shows_balance_statement_and_forms(client, li_setup):
    town = li_setup
    client.force_login(town.u_li)
    html = client.get("/timebank/").content.decode()
    assert 'data-testid="balance">4.00<' in html and 'data-testid="earned">4.00<' in html
    assert "李明（儿子）" in html and "服务入账" in html and 'data-testid="spend-form"' in html
    r = client.post("/timebank/transfer/", {"to_person": town.son.pk, "hours": "1.5", "memo": ""})
    assert r.status_code == 302 and services.balance(town.son) == D("1.50")
    html = client.get("/timebank/").content.decode()
    assert "已转赠 1.50 时间币。" in html and "转赠给家人 李*" in html


@pytest.mark.parametrize("path, data, status, message", [
    ("/timebank/transfer/", {"hours": "-2"}, 400, "时间币数必须大于 0。"),
    ("/timebank/transfer/", {"hours": "9"}, 400, "时间币余额不足"),
    ("/timebank/transfer/", {"hours": "1", "self": 1}, 400, "不能转给自己。"),
    ("/timebank/spend/", {"hours": "1", "provider_phone": "13800000001"}, 400, "不能向自己兑换服务。"),
    ("/timebank/spend/", {"hours": "1", "provider_phone": ""}, 400, "请填写对方的手机号。"),
])
def test_bad_input_re_renders_with_a_message_and_changes_nothing(client, li_setup, path, data, status, message):
    town = li_setup
    client.force_login(town.u_li)
    data = dict(data)
    data["to_person"] = town.li.pk if data.pop("self", None) else town.son.pk
    before = TimeTransaction.objects.count()
    r = client.post(path, data)
    assert r.status_code == status and message in r.content.decode()
    assert TimeTransaction.objects.count() == before and services.balance(town.li) == D("4.00")


def test_user_without_person(client, town):
    client.force_login(town.resident)
    r = client.get("/timebank/")
    assert r.status_code == 200 and "您的账号尚未关联人员档案" in r.content.decode()
    assert "staff-links" not in r.content.decode()
    assert client.post("/timebank/transfer/", {"hours": "1"}).status_code == 404


def test_my_excel_statement(client, li_setup):
    client.force_login(li_setup.u_li)
    r = client.get("/timebank/statement.xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][3] == "服务入账"


def test_staff_pages(client, li_setup):
    town = li_setup
    acc = services.account_of(town.li)
    client.force_login(town.worker_xn)
    assert "您的范围内暂无时间账户" in client.get("/timebank/accounts/").content.decode()
    assert client.get(f"/timebank/accounts/{acc.pk}/").status_code == 404
    client.force_login(town.officer)
    html = client.get(f"/timebank/accounts/{acc.pk}/").content.decode()
    assert "李秀英的时间账户" in html and "确认冲正" not in html and "credit-form" not in html
    assert client.post(f"/timebank/accounts/{acc.pk}/credit/", {"hours": "1", "reason": "x"}).status_code == 403
    client.force_login(town.worker)
    html = client.get("/timebank/").content.decode()
    assert "您的账号尚未关联人员档案" in html and 'href="/timebank/accounts/"' in html
    html = client.get("/timebank/accounts/?q=秀英").content.decode()
    assert "李秀英" in html and "138****0001" in html and "王建国" not in html
    html = client.get(f"/timebank/accounts/{acc.pk}/").content.decode()
    assert "确认冲正" in html and 'data-testid="credit-form"' in html
    r = client.post(f"/timebank/accounts/{acc.pk}/credit/", {"hours": "30", "reason": "补录"})
    assert r.status_code == 400 and "单次不能超过 24 时间币" in r.content.decode()
    assert client.post(f"/timebank/accounts/{acc.pk}/credit/", {"hours": "2", "reason": "补录"}).status_code == 302
    txn = TimeTransaction.objects.filter(source="manual").get()
    r = client.post(f"/timebank/accounts/{acc.pk}/reverse/{txn.pk}/", {"reason": "多录了"})
    assert r.status_code == 302 and services.balance(town.li) == D("4.00")
    r = client.post(f"/timebank/accounts/{acc.pk}/family/", {"relative_phone": "13800000002", "relation": "朋友"})
    assert r.status_code == 302 and services.is_family(town.li, town.wang)
    link = services.family_links(town.li)[0][0]
    assert client.post(f"/timebank/accounts/{acc.pk}/family/{link.pk}/delete/").status_code == 302
    assert "李明（儿子）" not in client.get(f"/timebank/accounts/{acc.pk}/").content.decode()
    assert client.get(f"/timebank/accounts/{acc.pk}/statement.xlsx").status_code == 200
    html = client.get("/timebank/ledger/").content.decode()
    assert "核对通过" in html and 'data-testid="issued">4.00<' in html
    client.force_login(town.u_li)
    assert client.get("/timebank/ledger/").status_code == 403
    assert client.get("/timebank/accounts/").status_code == 403


def test_spend_page_answers_alike_for_unknown_and_shared_numbers(client, li_setup):
    """The page gives the same status and message for an unknown number and a registered one that
    cannot be paid (shared by two people), and still pays a registered one."""
    from tests.timebank.conftest import person

    town = li_setup
    person("甲", town.beining, None, "13800000009")
    person("乙", town.beining, None, "13800000009")
    client.force_login(town.u_li)

    def answer(phone):
        r = client.post("/timebank/spend/", {"hours": "1", "provider_phone": phone})
        html = r.content.decode()
        return r.status_code, str(services.PROVIDER_UNAVAILABLE) in html

    assert answer("13900000000") == answer("13800000009") == (400, True)
    assert TimeTransaction.objects.count() == 1 and services.balance(town.li) == D("4.00")
    r = client.post("/timebank/spend/", {"hours": "1", "provider_phone": "13800000002"})
    assert r.status_code == 302 and services.balance(town.wang) == D("1.00")
