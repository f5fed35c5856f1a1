"""The time bank in the JSON API at /api/v1/timebank/…: the same services and rules as the pages.

A member: their balance, statement (and its Excel ledger), transfers to family and payments for
services. Staff (timebank.view / timebank.manage in scope): accounts, a person's statement,
manual credits, reversals, family links and the ledger check.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import StrictFloat, StrictInt, StrictStr

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import scopes
from gongzhi.core.errors import NotFound, ValidationFailed

from . import present, selectors, services
from .models import CreditRequest, TimeTransaction

router = Router(tags=["timebank"])

PAGE_SIZE = 50

# Strict: JSON true/false must not pass as 1/0 hours (lax parsing would coerce them).
Hours = StrictStr | StrictInt | StrictFloat


def _me(request):
    person = services.person_of(request.user)
    if person is None:
        raise NotFound("no_person", _("您的账号尚未关联人员档案，请联系社区工作者。"))
    return person


def _page(request, entries):
    try:
        n = int(request.GET.get("page") or 1)
    except ValueError:
        raise ValidationFailed("bad_page", _("页码必须是正整数。")) from None
    page = Paginator(entries, PAGE_SIZE).get_page(n)
    return {"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages,
            "results": [_line(r) for r in present.rows(page.object_list)]}


def _line(r: dict) -> dict:
    return {**r, "at": r["at"].isoformat(), "amount": str(r["amount"]), "balance_after": str(r["balance_after"])}


def _txn_out(txn: TimeTransaction) -> dict:
    return {"id": txn.pk, "kind": txn.kind, "hours": str(txn.hours), "memo": txn.memo, "source": txn.source,
            "source_ref": txn.source_ref, "reverses": txn.reverses_id,
            "created_at": timezone.localtime(txn.created_at).isoformat(),
            "entries": [{"account": e.account_id, "amount": str(e.amount), "balance_after": str(e.balance_after)}
                        for e in txn.entries.all()]}


def _person_out(person) -> dict:
    # As in the registry: staff in scope see the name; the phone only masked.
    return {"id": person.pk, "name": person.name, "phone": person.phone_masked}


@router.get("/timebank/me", auth=AUTH, summary="My time credit balance, hours earned this year and my family")
def me(request):
    person = _me(request)
    return {"person": {"id": person.pk, "name": person.name},
            "balance": str(services.balance(person)),
            "hours_earned_this_year": str(selectors.hours_earned(person)),
            "family": [{"id": p.pk, "name": p.name, "relation": rel} for p, rel in services.family_of(person)]}


@router.get("/timebank/me/statement", auth=AUTH, summary="My statement, newest first, with the balance after each entry")
def my_statement(request, date_from: str = "", date_to: str = ""):
    person = _me(request)
    acc = selectors.account_or_none(person)
    return _page(request, selectors.statement(acc, date_from=date_from, date_to=date_to))


@router.get("/timebank/me/statement.xlsx", auth=AUTH, summary="My statement as an Excel ledger")
def my_statement_xlsx(request, date_from: str = "", date_to: str = ""):
    person = _me(request)
    acc = selectors.account_or_none(person)
    return present.statement_xlsx(person, selectors.statement(acc, date_from=date_from, date_to=date_to))


class TransferIn(Schema):
    to_person_id: int
    hours: Hours
    memo: str = ""


@router.post("/timebank/transfer", auth=AUTH, response={201: dict}, summary="Give time credits to a family member")
def transfer(request, body: TransferIn):
    txn = services.transfer(actor=request.user, from_person=_me(request), to_person=body.to_person_id,
                            hours=body.hours, memo=body.memo)
    return Status(201, _txn_out(txn))


class SpendIn(Schema):
    provider_phone: str
    hours: Hours
    memo: str = ""


@router.post("/timebank/spend", auth=AUTH, response={201: dict},
             summary="Pay time credits to the person (by mobile number) who gave me a service")
def spend(request, body: SpendIn):
    txn = services.spend_by_phone(actor=request.user, payer_person=_me(request), provider_phone=body.provider_phone,
                                  hours=body.hours, memo=body.memo)
    return Status(201, _txn_out(txn))


# ---- staff ----

@router.get("/timebank/accounts", auth=AUTH, summary="Person accounts in my scope (timebank.view), search by name")
def accounts(request, q: str = ""):
    scopes.require(request.user, "timebank.view")
    try:
        n = int(request.GET.get("page") or 1)
    except ValueError:
        raise ValidationFailed("bad_page", _("页码必须是正整数。")) from None
    page = Paginator(selectors.accounts_in_scope(request.user, q=q), PAGE_SIZE).get_page(n)
    return {"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages,
            "results": [{"id": a.pk, "person": _person_out(a.person), "balance": str(a.balance),
                         "community": a.place.name if a.place_id else ""} for a in page.object_list]}


@router.get("/timebank/accounts/{account_id}/statement", auth=AUTH, summary="A person account's statement (staff)")
def account_statement(request, account_id: int, date_from: str = "", date_to: str = ""):
    acc = selectors.account_for_staff(request.user, account_id)
    out = _page(request, selectors.statement(acc, date_from=date_from, date_to=date_to))
    return {"account": {"id": acc.pk, "person": _person_out(acc.person), "balance": str(acc.balance)},
            **out}


@router.get("/timebank/accounts/{account_id}/statement.xlsx", auth=AUTH,
            summary="A person account's statement as an Excel ledger (staff)")
def account_statement_xlsx(request, account_id: int, date_from: str = "", date_to: str = ""):
    acc = selectors.account_for_staff(request.user, account_id)
    return present.statement_xlsx(acc.person, selectors.statement(acc, date_from=date_from, date_to=date_to))


class CreditIn(Schema):
    person_id: int
    hours: Hours
    reason: str


def _request_out(req: CreditRequest) -> dict:
    return {"id": req.pk, "state": req.state, "person": _person_out(req.person), "hours": str(req.hours),
            "reason": req.reason, "requested_by": req.requested_by.username,
            "requested_at": timezone.localtime(req.requested_at).isoformat(),
            "decided_by": req.decided_by.username if req.decided_by_id else None,
            "decided_at": timezone.localtime(req.decided_at).isoformat() if req.decided_at else None,
            "decline_reason": req.decline_reason, "transaction": req.transaction_id}


@router.post("/timebank/credits", auth=AUTH, response={201: dict, 202: dict},
             summary="Credit time credits (时间币) by hand, with a reason (timebank.manage; never to one's own account). "
                     "Above the second-approval size: 202 with a pending credit request")
def manual_credit(request, body: CreditIn):
    out = services.manual_credit(actor=request.user, person=body.person_id, hours=body.hours, reason=body.reason)
    if isinstance(out, CreditRequest):
        return Status(202, _request_out(out))
    return Status(201, _txn_out(out))


@router.get("/timebank/credit-requests", auth=AUTH,
            summary="Manual credit requests in my scope (timebank.view); state=pending by default, 'all' for any")
def credit_requests(request, state: str = "pending"):
    scopes.require(request.user, "timebank.view")
    try:
        n = int(request.GET.get("page") or 1)
    except ValueError:
        raise ValidationFailed("bad_page", _("页码必须是正整数。")) from None
    qs = selectors.credit_requests_in_scope(request.user, state="" if state == "all" else state)
    page = Paginator(qs, PAGE_SIZE).get_page(n)
    return {"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages,
            "results": [_request_out(r) for r in page.object_list]}


@router.post("/timebank/credit-requests/{request_id}/approve", auth=AUTH, response={200: dict},
             summary="Approve a pending credit as a second staff member (not the requester nor the beneficiary)")
def credit_request_approve(request, request_id: int):
    return Status(200, _request_out(services.approve_credit(actor=request.user, request=request_id)))


class DeclineIn(Schema):
    reason: str


@router.post("/timebank/credit-requests/{request_id}/decline", auth=AUTH, response={200: dict},
             summary="Decline a pending credit with a reason (a second staff member)")
def credit_request_decline(request, request_id: int, body: DeclineIn):
    return Status(200, _request_out(services.decline_credit(actor=request.user, request=request_id,
                                                            reason=body.reason)))


class ReverseIn(Schema):
    reason: str


@router.post("/timebank/transactions/{txn_id}/reverse", auth=AUTH, response={201: dict},
             summary="Reverse a transaction with a new one (timebank.manage over every person touched)")
def reverse(request, txn_id: int, body: ReverseIn):
    txn = services.reverse(actor=request.user, transaction=txn_id, reason=body.reason)
    return Status(201, _txn_out(txn))


class FamilyIn(Schema):
    person_id: int
    relative_id: int
    relation: str


@router.post("/timebank/family", auth=AUTH, response={201: dict},
             summary="Record two people as family, so credits may be given between them (timebank.manage)")
def family_link(request, body: FamilyIn):
    link = services.link_family(actor=request.user, person=body.person_id, relative=body.relative_id,
                                relation=body.relation)
    return Status(201, {"id": link.pk, "person_a": link.person_a_id, "person_b": link.person_b_id,
                        "relation": link.relation})


@router.delete("/timebank/family/{link_id}", auth=AUTH, response={204: None},
               summary="Remove a family link recorded by mistake (timebank.manage)")
def family_unlink(request, link_id: int):
    services.unlink_family(actor=request.user, link=link_id)
    return Status(204, None)


@router.get("/timebank/ledger", auth=AUTH, summary="Issued and held credits in my scope; whole-ledger zero-sum check")
def ledger(request):
    scopes.require(request.user, "timebank.view")
    c = selectors.ledger_check(None if request.user.is_superuser else request.user)
    return {"ok": c.ok, "total_issued": str(c.total_issued), "total_held": str(c.total_held),
            "sum_all_accounts": str(c.sum_all), "sum_all_entries": str(c.sum_entries),
            "transactions": c.transactions, "unbalanced_transactions": c.unbalanced_transactions,
            "mismatched_accounts": c.mismatched_accounts,
            "places": [{"place": p.name if p else _("平台"), "issued": str(i), "held": str(h)}
                       for p, i, h in c.places]}
