"""The time bank's JSON API: the same rules and permissions as the pages, refusals in the error shape."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from gongzhi.accounts.models import ApiToken
from gongzhi.timebank import services
from gongzhi.timebank.models import TimeTransaction
from tests.timebank.conftest import credit

D = Decimal


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(who, url, body):
    return Client().post(f"/api/v1{url}", body, content_type="application/json", **who)


def get(who, url):
    return Client().get(f"/api/v1{url}", **who)


@pytest.fixture
def li(town):
    credit(town.li, 6)
    services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    return bearer(town.u_li)


def test_me_statement_and_transfer(town, li):
    r = get(li, "/timebank/me")
    assert r.status_code == 200
    assert r.json() == {"person": {"id": town.li.pk, "name": "李秀英"}, "balance": "6.00",
                        "hours_earned_this_year": "6.00",
                        "family": [{"id": town.son.pk, "name": "李明", "relation": "儿子"}]}
    r = post(li, "/timebank/transfer", {"to_person_id": town.son.pk, "hours": "2.5", "memo": "给儿子"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "transfer" and body["hours"] == "2.50"
    assert sorted(e["amount"] for e in body["entries"]) == ["-2.50", "2.50"]
    st = get(li, "/timebank/me/statement").json()
    assert st["count"] == 2
    assert [(x["amount"], x["balance_after"]) for x in st["results"]] == [("-2.50", "3.50"), ("6.00", "6.00")]
    assert st["results"][0]["description"] == "转赠给家人 李*（给儿子）"
    assert get(li, "/timebank/me/statement?date_from=2099-01-01").json()["count"] == 0
    r = get(li, "/timebank/me/statement?date_from=bad")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_date"


@pytest.mark.parametrize("body, status, code", [
    ({"hours": "-1"}, 400, "hours_not_positive"),
    ({"hours": 0}, 400, "hours_not_positive"),
    ({"hours": "1.001"}, 400, "hours_precision"),
    ({"hours": "7"}, 400, "insufficient_balance"),
    ({"hours": "1", "to": "self"}, 400, "same_person"),
    ({"hours": "1", "to": "stranger"}, 400, "not_family"),
    ({"hours": "1", "to": 99999}, 404, "person_not_found"),
    ({"hours": True}, 400, "invalid_input"),  # JSON true is not one hour
    ({"hours": None}, 400, "invalid_input"),
])
def test_bad_transfers_are_refused_and_change_nothing(town, li, body, status, code):
    to = {"self": town.li.pk, "stranger": town.wang.pk}.get(body.pop("to", None), town.son.pk) \
        if not isinstance(body.get("to"), int) else body.pop("to")
    before = (TimeTransaction.objects.count(), services.balance(town.li))
    r = post(li, "/timebank/transfer", {"to_person_id": to, **body})
    assert r.status_code == status, r.content
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    assert (TimeTransaction.objects.count(), services.balance(town.li)) == before


def test_spend_by_phone(town, li):
    r = post(li, "/timebank/spend", {"provider_phone": "13800000002", "hours": 1, "memo": "修水管"})
    assert r.status_code == 201, r.content
    assert services.balance(town.wang) == D("1.00")
    r = post(li, "/timebank/spend", {"provider_phone": "13900000000", "hours": 1})
    assert r.status_code == 400 and r.json()["error"]["message"] == str(services.PROVIDER_UNAVAILABLE)
    r = post(bearer(town.u_wang), "/timebank/spend", {"provider_phone": "13800000002", "hours": "0.5"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "不能向自己兑换服务。"


def test_user_without_person_gets_a_clear_message(town):
    r = get(bearer(town.resident), "/timebank/me")
    assert r.status_code == 404 and "尚未关联人员档案" in r.json()["error"]["message"]
    assert Client().get("/api/v1/timebank/me").status_code == 401


def test_staff_accounts_statement_reverse_and_credit(town, li):
    worker, officer, outsider = bearer(town.worker), bearer(town.officer), bearer(town.worker_xn)
    rows = get(worker, "/timebank/accounts?q=李").json()["results"]
    assert [(r["person"]["name"], r["person"]["phone"], r["balance"]) for r in rows] == [
        ("李秀英", "138****0001", "6.00")]
    acc_id = rows[0]["id"]
    assert get(officer, "/timebank/accounts").json()["count"] == 1
    assert get(outsider, "/timebank/accounts").json()["count"] == 0
    assert get(li, "/timebank/accounts").status_code == 403
    assert get(outsider, f"/timebank/accounts/{acc_id}/statement").status_code == 404
    st = get(officer, f"/timebank/accounts/{acc_id}/statement").json()
    assert st["account"]["balance"] == "6.00" and st["count"] == 1
    txn_id = st["results"][0]["transaction_id"]
    # The street officer may look but not correct; the community worker may.
    assert post(officer, f"/timebank/transactions/{txn_id}/reverse", {"reason": "错录"}).status_code == 403
    assert post(li, f"/timebank/transactions/{txn_id}/reverse", {"reason": "错录"}).status_code == 403
    r = post(worker, f"/timebank/transactions/{txn_id}/reverse", {"reason": "错录"})
    assert r.status_code == 201 and r.json()["reverses"] == txn_id
    assert services.balance(town.li) == 0
    r = post(worker, f"/timebank/transactions/{txn_id}/reverse", {"reason": "错录"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_reversed"
    r = post(worker, "/timebank/credits", {"person_id": town.li.pk, "hours": "3", "reason": "补录"})
    assert r.status_code == 201 and services.balance(town.li) == D("3.00")
    assert post(officer, "/timebank/credits", {"person_id": town.li.pk, "hours": "3", "reason": "x"}).status_code == 403
    r = post(worker, "/timebank/credits", {"person_id": town.li.pk, "hours": "25", "reason": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "hours_too_large"
    r = post(worker, "/timebank/family", {"person_id": town.wang.pk, "relative_id": town.son.pk, "relation": "邻居"})
    assert r.status_code == 201
    link_id = r.json()["id"]
    assert Client().delete(f"/api/v1/timebank/family/{link_id}", **outsider).status_code == 403
    assert Client().delete(f"/api/v1/timebank/family/{link_id}", **worker).status_code == 204
    assert Client().delete(f"/api/v1/timebank/family/{link_id}", **worker).status_code == 404
    assert post(outsider, "/timebank/family", {"person_id": town.wang.pk, "relative_id": town.li.pk,
                                               "relation": "x"}).status_code == 403


def test_ledger_and_excel(town, li):
    r = get(bearer(town.officer), "/timebank/ledger").json()
    assert r["ok"] and r["sum_all_accounts"] == "0.00" and r["total_issued"] == "6.00"
    assert get(li, "/timebank/ledger").status_code == 403
    r = get(li, "/timebank/me/statement.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "交易号", "类型", "摘要") and rows[1][2] == "服务入账" and rows[1][6] == 6
    acc = services.account_of(town.li)
    assert get(bearer(town.worker), f"/timebank/accounts/{acc.pk}/statement.xlsx").status_code == 200


def _spend_answer(who, phone, hours="1"):
    before = (TimeTransaction.objects.count(), services.balance(who[1]))
    r = post(who[0], "/timebank/spend", {"provider_phone": phone, "hours": hours})
    assert (TimeTransaction.objects.count(), services.balance(who[1])) == before
    return r.status_code, r.json()


def test_spend_answers_alike_for_unknown_and_registered_numbers(town, li):
    """No enumeration oracle: a payer cannot tell a registered number from an unknown one."""
    from tests.timebank.conftest import person

    person("王建国之妻", town.beining, None, "13800000009")
    person("同号者", town.beining, None, "13800000009")  # registered, but shared: not payable
    unknown = _spend_answer((li, town.li), "13900000000")
    assert unknown == _spend_answer((li, town.li), "13800000009")
    assert unknown[0] == 400 and unknown[1]["error"]["code"] == "provider_unavailable"
    assert "139" not in unknown[1]["error"]["message"]
    # A payer without enough credits hears the same for a payable number and an unknown one.
    wang = (bearer(town.u_wang), town.wang)
    assert _spend_answer(wang, "13800000001") == _spend_answer(wang, "13900000000")
    assert _spend_answer(wang, "13900000000")[1]["error"]["code"] == "insufficient_balance"
    # A valid payment still goes through.
    r = post(li, "/timebank/spend", {"provider_phone": "13800000002", "hours": "1"})
    assert r.status_code == 201 and services.balance(town.wang) == D("1.00")
