"""Segregation of duties in the time bank: no staff credit, reversal or approval for oneself; big manual
credits wait for a second staff member; a family link needs scope over both people. Through the API and
the pages."""

from decimal import Decimal

import pytest
from django.test import Client

from gongzhi.accounts.models import ApiToken
from gongzhi.core.models import AuditEntry
from gongzhi.timebank import services
from gongzhi.timebank.models import CreditRequest, FamilyLink, TimeAccount, TimeTransaction
from tests.timebank.conftest import credit, person

D = Decimal


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(u, url, body=None):
    return Client().post(f"/api/v1{url}", body or {}, content_type="application/json", **bearer(u))


@pytest.fixture
def staff(town):
    """The community worker is also a resident with a person record (and so a time bank account)."""
    town.me = person("陈社工", town.beining, town.worker, "13800000009")
    town.me_acc = services.account_of(town.me)
    return town


def test_worker_cannot_credit_own_account_over_the_api(staff):
    for _ in range(3):
        r = post(staff.worker, "/timebank/credits", {"person_id": staff.me.pk, "hours": 24, "reason": "加班"})
        assert r.status_code == 403, r.content
        assert r.json()["error"]["code"] == "self_dealing"
        assert "不能为本人的时间账户入账" in r.json()["error"]["message"]
    assert services.balance(staff.me) == 0 and TimeTransaction.objects.count() == 0
    assert CreditRequest.objects.count() == 0


def test_worker_cannot_credit_own_account_on_the_page(staff, client):
    client.force_login(staff.worker)
    r = client.post(f"/timebank/accounts/{staff.me_acc.pk}/credit/", {"hours": "6", "reason": "加班"})
    assert r.status_code == 403 and "不能为本人的时间账户入账" in r.content.decode()
    assert services.balance(staff.me) == 0 and TimeTransaction.objects.count() == 0


def test_worker_cannot_reverse_a_transaction_on_own_account(staff, client):
    t = services.manual_credit(actor=staff.both, person=staff.me, hours=2, reason="活动")
    r = post(staff.worker, f"/timebank/transactions/{t.pk}/reverse", {"reason": "撤销"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    client.force_login(staff.worker)
    r = client.post(f"/timebank/accounts/{staff.me_acc.pk}/reverse/{t.pk}/", {"reason": "撤销"})
    assert r.status_code == 403
    assert not TimeTransaction.objects.filter(reverses=t).exists() and services.balance(staff.me) == D("2.00")
    # Someone else may.
    assert post(staff.both, f"/timebank/transactions/{t.pk}/reverse", {"reason": "录错"}).status_code == 201


def test_small_credit_posts_at_once_big_one_waits_for_a_second_staff_member(staff):
    r = post(staff.worker, "/timebank/credits", {"person_id": staff.li.pk, "hours": "8", "reason": "补录"})
    assert r.status_code == 201 and services.balance(staff.li) == D("8.00")
    r = post(staff.worker, "/timebank/credits", {"person_id": staff.li.pk, "hours": "12", "reason": "大型活动"})
    assert r.status_code == 202, r.content
    req = r.json()
    assert req["state"] == "pending" and req["hours"] == "12.00" and req["transaction"] is None
    assert services.balance(staff.li) == D("8.00")
    listed = Client().get("/api/v1/timebank/credit-requests", **bearer(staff.both)).json()
    assert [x["id"] for x in listed["results"]] == [req["id"]]
    # Out of scope: not even found.
    assert post(staff.worker_xn, f"/timebank/credit-requests/{req['id']}/approve").status_code == 404
    assert Client().get("/api/v1/timebank/credit-requests", **bearer(staff.worker_xn)).json()["count"] == 0
    # The requester cannot approve their own request.
    r = post(staff.worker, f"/timebank/credit-requests/{req['id']}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    assert services.balance(staff.li) == D("8.00")
    r = post(staff.both, f"/timebank/credit-requests/{req['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved" and r.json()["decided_by"] == "cw_both"
    assert services.balance(staff.li) == D("20.00")
    txn = TimeTransaction.objects.get(pk=r.json()["transaction"])
    assert txn.source_ref == f"request:{req['id']}" and txn.created_by == staff.both
    r = post(staff.both, f"/timebank/credit-requests/{req['id']}/approve")
    assert r.status_code == 409 and services.balance(staff.li) == D("20.00")
    actions = list(AuditEntry.objects.filter(object_type="timebank.creditrequest").values_list("action", flat=True))
    assert actions == ["timebank.credit_request", "timebank.credit_approved"]


def test_beneficiary_staff_cannot_approve_a_credit_for_themself(staff):
    req = services.manual_credit(actor=staff.both, person=staff.me, hours=20, reason="年度")
    assert isinstance(req, CreditRequest)
    r = post(staff.worker, f"/timebank/credit-requests/{req.pk}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    assert CreditRequest.objects.get(pk=req.pk).state == "pending" and services.balance(staff.me) == 0


def test_decline_needs_a_reason_and_posts_nothing(staff):
    req = services.manual_credit(actor=staff.worker, person=staff.li, hours=10, reason="活动")
    r = post(staff.both, f"/timebank/credit-requests/{req.pk}/decline", {"reason": ""})
    assert r.status_code == 400 and CreditRequest.objects.get(pk=req.pk).state == "pending"
    r = post(staff.both, f"/timebank/credit-requests/{req.pk}/decline", {"reason": "无活动记录"})
    assert r.status_code == 200 and r.json()["state"] == "declined"
    assert post(staff.both, f"/timebank/credit-requests/{req.pk}/approve").status_code == 409
    assert services.balance(staff.li) == 0 and TimeTransaction.objects.count() == 0


def test_second_approval_on_the_pages(staff, client):
    acc = services.account_of(staff.li)
    client.force_login(staff.worker)
    html = client.get(f"/timebank/accounts/{acc.pk}/").content.decode()
    assert "超过 8 时间币的入账须由另一位工作人员复核" in html
    r = client.post(f"/timebank/accounts/{acc.pk}/credit/", {"hours": "16", "reason": "防汛值守"})
    assert r.status_code == 302 and services.balance(staff.li) == 0
    req = CreditRequest.objects.get()
    html = client.get("/timebank/requests/").content.decode()
    assert "防汛值守" in html and f'data-testid="approve-{req.pk}"' not in html  # not for the requester
    r = client.post(f"/timebank/requests/{req.pk}/approve/")
    assert r.status_code == 403 and "另一位工作人员复核" in r.content.decode()
    other = Client()
    other.force_login(staff.both)
    html = other.get("/timebank/requests/").content.decode()
    assert f'data-testid="approve-{req.pk}"' in html
    r = other.post(f"/timebank/requests/{req.pk}/approve/")
    assert r.status_code == 302 and services.balance(staff.li) == D("16.00")
    r = other.post(f"/timebank/requests/{req.pk}/approve/")
    assert r.status_code == 409 and services.balance(staff.li) == D("16.00")


def test_the_second_approval_size_is_a_setting(staff, settings):
    settings.TIMEBANK_SECOND_APPROVAL_HOURS = "24"
    t = services.manual_credit(actor=staff.worker, person=staff.li, hours=20, reason="活动")
    assert isinstance(t, TimeTransaction) and services.balance(staff.li) == D("20.00")
    settings.TIMEBANK_SECOND_APPROVAL_HOURS = "0"
    assert isinstance(services.manual_credit(actor=staff.worker, person=staff.li, hours="0.5", reason="x"),
                      CreditRequest)


def test_family_link_needs_scope_over_both_people(staff, client):
    # 北宁's worker may not tie 兴宁's 赵六 to 李秀英, from either side, by API or page.
    r = post(staff.worker, "/timebank/family", {"person_id": staff.li.pk, "relative_id": staff.far.pk,
                                                "relation": "兄弟"})
    assert r.status_code == 403
    r = post(staff.worker_xn, "/timebank/family", {"person_id": staff.far.pk, "relative_id": staff.li.pk,
                                                   "relation": "兄弟"})
    assert r.status_code == 403
    client.force_login(staff.worker)
    acc = services.account_of(staff.li)
    r = client.post(f"/timebank/accounts/{acc.pk}/family/", {"relative_phone": "13800000004", "relation": "兄弟"})
    assert r.status_code == 403 and FamilyLink.objects.count() == 0
    # A worker of both communities may; removing it then also needs both.
    r = post(staff.both, "/timebank/family", {"person_id": staff.li.pk, "relative_id": staff.far.pk,
                                              "relation": "兄弟"})
    assert r.status_code == 201
    link_id = r.json()["id"]
    assert Client().delete(f"/api/v1/timebank/family/{link_id}", **bearer(staff.worker)).status_code == 403
    assert Client().delete(f"/api/v1/timebank/family/{link_id}", **bearer(staff.both)).status_code == 204


def test_worker_cannot_link_themself_as_family(staff):
    r = post(staff.worker, "/timebank/family", {"person_id": staff.li.pk, "relative_id": staff.me.pk,
                                                "relation": "朋友"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    assert FamilyLink.objects.count() == 0


def test_a_resident_still_spends_and_transfers_their_own_credits(staff):
    credit(staff.li, 3)
    services.link_family(actor=staff.worker, person=staff.li, relative=staff.son, relation="儿子")
    services.transfer(actor=staff.u_li, from_person=staff.li, to_person=staff.son, hours=1)
    assert services.balance(staff.son) == D("1.00")
    assert TimeAccount.objects.filter(person=staff.li).get().balance == D("2.00")


def test_credit_request_list_refuses_an_unknown_state(staff, client):
    r = Client().get("/api/v1/timebank/credit-requests?state=bogus", **bearer(staff.worker))
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_state"
    client.force_login(staff.worker)
    assert client.get("/timebank/requests/?state=bogus").status_code == 400
    assert client.get("/timebank/requests/?state=all").status_code == 200
