"""Every write to the time bank: one function per use case, each one transaction, each audited.

A posting locks the accounts it touches (issuing accounts first, then person accounts, each group
by id, so two postings never wait on each other in a circle), re-reads their balances under the
lock, refuses anything that would take a person account below zero, then writes the transaction,
its entries (summing to zero, each with the account's balance after it) and the new balances.
The CHECK constraint on person balances is the last line behind that re-check.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import audit, scopes
from gongzhi.core.duties import refuse_self
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import checked_text
from gongzhi.core.transactions import serialised
from gongzhi.org.models import Person

from .models import (
    ZERO,
    AccountKind,
    CreditRequest,
    CreditRequestState,
    FamilyLink,
    TimeAccount,
    TimeEntry,
    TimeTransaction,
    TxnKind,
)

CREDIT_MAX = Decimal("24")
MOVE_MAX = Decimal("10000")
# `reverse()` takes a keyword named `transaction`; inside it the module is reached by this name.
transaction_module = transaction
MEMO_MAX = 200
RELATION_MAX = 20
SOURCE_MAX = 32
SOURCE_REF_MAX = 100
# The one answer to a spend whose number cannot be paid (unknown, shared, or the payer's): see spend_by_phone.
PROVIDER_UNAVAILABLE = gettext_lazy("无法向该手机号支付。请核对号码；号码无误的，请到社区办理。")


# ---- helpers ----

def _serialised(fn):
    return serialised(fn, _("系统正忙，请稍后重试。"))

def parse_hours(value, *, max_hours: Decimal = MOVE_MAX) -> Decimal:
    """A positive number of hours with at most two decimals, at most `max_hours`."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed("hours_required", _("请填写时间币数。"))
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("hours_invalid", _("时间币数必须是数字。")) from None
    if not d.is_finite():
        raise ValidationFailed("hours_invalid", _("时间币数必须是数字。"))
    if d <= 0:
        raise ValidationFailed("hours_not_positive", _("时间币数必须大于 0。"))
    if d != d.quantize(Decimal("0.01")):
        raise ValidationFailed("hours_precision", _("时间币数最多保留两位小数。"))
    if d > max_hours:
        raise ValidationFailed("hours_too_large", _("单次不能超过 %(max)s 时间币。") % {"max": max_hours})
    return d.quantize(Decimal("0.01"))


def _text(value, *, field_label, max_len, required=False) -> str:
    """Ledger text is optional unless said otherwise (memos)."""
    return checked_text(value, field_label=field_label, max_len=max_len, required=required)

def _person(value, *, label) -> Person:
    if isinstance(value, Person) and value.pk:
        return value
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound("person_not_found", _("未找到%(who)s。") % {"who": label}) from None
    p = Person.objects.filter(pk=pk).first()
    if p is None:
        raise NotFound("person_not_found", _("未找到%(who)s。") % {"who": label})
    return p


def _user_or_none(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def person_of(user) -> Person | None:
    """The person record linked to a user account, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.filter(user=user).first()


def _issuing_account(place) -> TimeAccount:
    """The community's issuing account (the platform's for people registered in no community)."""
    acc = TimeAccount.objects.filter(kind=AccountKind.ISSUING, place=place).first()
    if acc is not None:
        return acc
    try:
        with transaction.atomic():
            return TimeAccount.objects.create(kind=AccountKind.ISSUING, place=place,
                                              place_path=place.path if place is not None else "")
    except IntegrityError:
        return TimeAccount.objects.get(kind=AccountKind.ISSUING, place=place)


def account_of(person: Person) -> TimeAccount:
    """The person's account, opened on first use."""
    acc = TimeAccount.objects.filter(person=person).first()
    if acc is not None:
        return acc
    place = person.registered_community
    try:
        with transaction.atomic():
            return TimeAccount.objects.create(kind=AccountKind.PERSON, person=person, place=place,
                                              place_path=place.path if place is not None else "")
    except IntegrityError:
        return TimeAccount.objects.get(person=person)


def _lock_audit_chain():
    """Take the audit chain's head lock before any account lock.

    Every audited write locks that head (core.audit.record). A caller such as a volunteering
    check-out writes its own audit entry and then calls credit_hours in the same transaction, so
    it holds the head before our account locks; taking the head first here too keeps one global
    order (audit head, then issuing accounts, then person accounts) and no two writers wait on each
    other in a circle on PostgreSQL."""
    from gongzhi.core.models import AuditHead

    AuditHead.objects.select_for_update().filter(pk=1).first()


def _lock(accounts) -> dict[int, TimeAccount]:
    """Lock the accounts in one global order and return them re-read under the lock."""
    order = sorted({a.pk: a for a in accounts}.values(), key=lambda a: (a.kind != AccountKind.ISSUING, a.pk))
    return {a.pk: TimeAccount.objects.select_for_update().get(pk=a.pk) for a in order}


def _post(txn: TimeTransaction | None, lines, *, make_txn=None, refuse_message=None):
    """Write `lines` [(account, signed amount)] as the entries of a transaction, under the locks.

    `txn` is the already-inserted transaction, or None and `make_txn()` builds it once every
    balance is known to stay at or above zero."""
    if sum((amt for _a, amt in lines), ZERO) != 0:
        raise AssertionError("a transaction's entries must sum to zero")
    locked = _lock(a for a, _amt in lines)
    after = {pk: acc.balance for pk, acc in locked.items()}
    for acc, amt in lines:
        after[acc.pk] += amt
    for pk, bal in after.items():
        acc = locked[pk]
        if acc.kind == AccountKind.PERSON and bal < 0:
            raise ValidationFailed("insufficient_balance", refuse_message or _(
                "时间币余额不足：现有 %(have)s，需要 %(need)s。") % {
                    "have": acc.balance, "need": -sum(a for x, a in lines if x.pk == pk)})
    if txn is None:
        txn = make_txn()
    now = txn.created_at
    running = {pk: acc.balance for pk, acc in locked.items()}
    entries = []
    for acc, amt in lines:
        running[acc.pk] += amt
        entries.append(TimeEntry(transaction=txn, account_id=acc.pk, amount=amt, balance_after=running[acc.pk],
                                 created_at=now))
    TimeEntry.objects.bulk_create(entries)
    for pk, acc in locked.items():
        if running[pk] != acc.balance:
            # Through the base manager's plain UPDATE: accounts are mutable, entries are not.
            TimeAccount.objects.filter(pk=pk).update(balance=running[pk], version=acc.version + 1)
    return txn


def _may_act_for(actor, person: Person) -> bool:
    """The person themself, or staff who manage the time bank where the person lives."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if person.user_id and person.user_id == actor.pk:
        return True
    return scopes.can(actor, "timebank.manage", person)


# ---- credits ----

def credit_hours(*, person, hours, source: str, source_ref: str, memo: str = "", actor=None) -> TimeTransaction:
    """Issue `hours` time credits to `person` for service done, once per (source, source_ref).

    Runs inside the caller's transaction when there is one. A second call with the same
    (source, source_ref) returns the first transaction and credits nothing, also when the two
    calls race (the unique constraint decides; the loser reads the winner's row)."""
    person = _person(person, label=_("人员"))
    amount = parse_hours(hours, max_hours=CREDIT_MAX)
    source = _text(source, field_label=_("来源"), max_len=SOURCE_MAX, required=True)
    source_ref = _text(source_ref, field_label=_("来源编号"), max_len=SOURCE_REF_MAX, required=True)
    memo = _text(memo, field_label=_("备注"), max_len=500)

    def write():
        existing = TimeTransaction.objects.filter(source=source, source_ref=source_ref).first()
        if existing is not None:
            return existing
        _lock_audit_chain()
        try:
            with transaction.atomic():
                txn = TimeTransaction.objects.create(
                    kind=TxnKind.CREDIT, hours=amount, memo=memo, source=source, source_ref=source_ref,
                    created_by=_user_or_none(actor), created_at=timezone.now())
        except IntegrityError:
            return TimeTransaction.objects.get(source=source, source_ref=source_ref)
        acc = account_of(person)
        issuing = _issuing_account(person.registered_community)
        _post(txn, [(issuing, -amount), (acc, amount)])
        audit.record(actor, "timebank.credit", txn, after={
            "person": person.pk, "hours": str(amount), "source": source, "source_ref": source_ref})
        return txn

    return _serialised(write)


def second_approval_hours() -> Decimal:
    """Manual credits above this size wait for a second staff member (GONGZHI_TIMEBANK_SECOND_APPROVAL_HOURS)."""
    try:
        value = Decimal(str(getattr(settings, "TIMEBANK_SECOND_APPROVAL_HOURS", "8")).strip())
    except (InvalidOperation, ValueError):
        value = Decimal("8")
    return value if value.is_finite() and value >= 0 else Decimal("8")


def self_credit_message():
    return _("不能为本人的时间账户入账、冲正或复核，请由其他工作人员办理。")


def manual_credit(*, actor, person, hours, reason) -> TimeTransaction | CreditRequest:
    """Staff who manage the time bank credit hours by hand, giving the reason.

    Never to their own account. Up to the second-approval size the credit is posted at once (a
    TimeTransaction comes back); above it a pending CreditRequest comes back, which a second staff
    member approves or declines (approve_credit / decline_credit)."""
    person = _person(person, label=_("人员"))
    scopes.require(actor, "timebank.manage", person)
    refuse_self(actor, person, message=self_credit_message())
    reason = _text(reason, field_label=_("原因"), max_len=MEMO_MAX, required=True)
    amount = parse_hours(hours, max_hours=CREDIT_MAX)
    if amount <= second_approval_hours():
        return credit_hours(person=person, hours=amount, source="manual", source_ref=uuid.uuid4().hex, memo=reason,
                            actor=actor)

    def write():
        req = CreditRequest.objects.create(person=person, hours=amount, reason=reason, requested_by=actor,
                                           requested_at=timezone.now())
        audit.record(actor, "timebank.credit_request", req, after={
            "person": person.pk, "hours": str(amount), "reason": reason})
        return req

    return _serialised(write)


def _decide_credit(actor, request, *, state, reason=""):
    from .selectors import credit_request_get_for

    req = request if isinstance(request, CreditRequest) else credit_request_get_for(actor, request)
    scopes.require(actor, "timebank.manage", req.person)
    refuse_self(actor, req.person, message=self_credit_message())
    refuse_self(actor, req.requested_by, message=_("入账申请须由另一位工作人员复核，申请人不能复核自己的申请。"))

    def write():
        _lock_audit_chain()  # the module's lock order: audit head first, then the request row, then accounts
        now = timezone.now()
        won = CreditRequest.objects.filter(pk=req.pk, state=CreditRequestState.PENDING).update(
            state=state, decided_by=actor, decided_at=now, decline_reason=reason, version=F("version") + 1)
        if won != 1:
            current = CreditRequest.objects.filter(pk=req.pk).first()
            label = current.get_state_display() if current is not None else ""
            raise Conflict("already_decided", _("该入账申请已处理（%(s)s）。") % {"s": label})
        txn = None
        if state == CreditRequestState.APPROVED:
            txn = credit_hours(person=req.person, hours=req.hours, source="manual", source_ref=f"request:{req.pk}",
                               memo=req.reason, actor=actor)
            CreditRequest.objects.filter(pk=req.pk).update(transaction=txn)
        audit.record(actor, f"timebank.credit_{state}", req, before={"state": CreditRequestState.PENDING},
                     after={"state": state, "person": req.person_id, "hours": str(req.hours),
                            "requested_by": req.requested_by_id, "reason": reason,
                            "transaction": txn.pk if txn is not None else None})
        req.refresh_from_db()
        return req

    return _serialised(write)


def may_decide_credit(actor, req: CreditRequest) -> bool:
    """Whether the page should offer approve/decline: a pending request, staff in scope, not their own."""
    from gongzhi.core.duties import is_self

    return (req.state == CreditRequestState.PENDING and scopes.can(actor, "timebank.manage", req.person)
            and not is_self(actor, req.person, req.requested_by))


def approve_credit(*, actor, request) -> CreditRequest:
    """A second staff member (not the requester, not the beneficiary) approves: the credit is posted."""
    return _decide_credit(actor, request, state=CreditRequestState.APPROVED)


def decline_credit(*, actor, request, reason) -> CreditRequest:
    """A second staff member declines a pending credit, giving the reason; nothing is posted."""
    reason = _text(reason, field_label=_("驳回原因"), max_len=MEMO_MAX, required=True)
    return _decide_credit(actor, request, state=CreditRequestState.DECLINED, reason=reason)


def balance(person) -> Decimal:
    """The person's time credit balance (0 for someone without an account)."""
    pk = person.pk if isinstance(person, Person) else person
    value = TimeAccount.objects.filter(person_id=pk).values_list("balance", flat=True).first()
    return value if value is not None else ZERO


# ---- spending and giving ----

def _move(*, actor, kind, payer, payee, hours, memo, check_payee):
    payer = _person(payer, label=_("付出方"))
    payee = _person(payee, label=_("接收方"))
    if not _may_act_for(actor, payer):
        raise PermissionDenied("forbidden", _("只能使用本人的时间币。"))
    amount = parse_hours(hours)
    memo = _text(memo, field_label=_("备注"), max_len=MEMO_MAX)
    if payer.pk == payee.pk:
        raise ValidationFailed("same_person", _("不能转给自己。") if kind == TxnKind.TRANSFER
                               else _("不能向自己兑换服务。"))
    check_payee(payer, payee)

    def write():
        _lock_audit_chain()
        src = account_of(payer)
        dst = account_of(payee)
        txn = _post(None, [(src, -amount), (dst, amount)], make_txn=lambda: TimeTransaction.objects.create(
            kind=kind, hours=amount, memo=memo, created_by=_user_or_none(actor), created_at=timezone.now()))
        audit.record(actor, f"timebank.{kind}", txn, after={"from": payer.pk, "to": payee.pk, "hours": str(amount)})
        return txn

    return _serialised(write)


def spend(*, actor, payer_person, provider_person, hours, memo="") -> TimeTransaction:
    """Pay `provider_person` time credits for a service they gave `payer_person`."""
    return _move(actor=actor, kind=TxnKind.SPEND, payer=payer_person, payee=provider_person, hours=hours, memo=memo,
                 check_payee=lambda a, b: None)


def spend_by_phone(*, actor, payer_person, provider_phone, hours, memo="") -> TimeTransaction:
    """Pay the one person registered with `provider_phone` for a service they gave the payer.

    The answer must not tell a payer which numbers are registered (an enumeration oracle): every check
    that depends only on the payer (permission, amount, memo, own number, balance) runs first, then the
    number is looked up once, and every refusal that depends on the registry (no one, several people,
    the payer) is the same error with the same status and message, after the same work."""
    from gongzhi.core import pii

    payer = _person(payer_person, label=_("付出方"))
    if not _may_act_for(actor, payer):
        raise PermissionDenied("forbidden", _("只能使用本人的时间币。"))
    amount = parse_hours(hours)
    memo = _text(memo, field_label=_("备注"), max_len=MEMO_MAX)
    phone = provider_phone.strip() if isinstance(provider_phone, str) else ""
    if not phone:
        raise ValidationFailed("phone_required", _("请填写对方的手机号。"))
    phone_hash = pii.lookup_hash(phone)
    if payer.phone_hash and phone_hash == payer.phone_hash:
        # The payer's own number: what they typed is theirs, so saying so reveals nothing.
        raise ValidationFailed("same_person", _("不能向自己兑换服务。"))
    have = balance(payer)
    if have < amount:
        raise ValidationFailed("insufficient_balance", _("时间币余额不足：现有 %(have)s，需要 %(need)s。") % {
            "have": have, "need": amount})
    people = list(Person.objects.filter(phone_hash=phone_hash).values_list("pk", flat=True)[:2])
    if len(people) != 1 or people[0] == payer.pk:
        raise ValidationFailed("provider_unavailable", str(PROVIDER_UNAVAILABLE))
    return spend(actor=actor, payer_person=payer, provider_person=people[0], hours=amount, memo=memo)


def transfer(*, actor, from_person, to_person, hours, memo="") -> TimeTransaction:
    """Give time credits to a family member (a FamilyLink the community recorded)."""
    def check(a, b):
        if not is_family(a, b):
            raise ValidationFailed("not_family", _("只能转赠给社区登记的家庭成员。"))

    return _move(actor=actor, kind=TxnKind.TRANSFER, payer=from_person, payee=to_person, hours=hours, memo=memo,
                 check_payee=check)


# ---- corrections ----

def reverse(*, actor, transaction, reason) -> TimeTransaction:  # noqa: A002 - the brief's keyword
    """Undo a transaction with a new one carrying the opposite entries.

    Staff need timebank.manage over every person account it touched. A transaction is reversed at
    most once; a reversal is not reversed again (credit anew instead). Refused if any person
    balance would fall below zero."""
    original = transaction if isinstance(transaction, TimeTransaction) else (
        TimeTransaction.objects.filter(pk=_int_or_none(transaction)).first())
    if original is None:
        raise NotFound("transaction_not_found", _("未找到该笔交易。"))
    reason = _text(reason, field_label=_("冲正原因"), max_len=MEMO_MAX, required=True)
    entries = list(original.entries.select_related("account__person"))
    people = [e.account.person for e in entries if e.account.person_id]
    if not people or not all(scopes.can(actor, "timebank.manage", p) for p in people):
        if not (actor is not None and getattr(actor, "is_superuser", False)):
            raise PermissionDenied("forbidden", _("您没有权限执行此操作。"), {"action": "timebank.manage"})
    refuse_self(actor, *people, message=self_credit_message())
    if original.kind == TxnKind.REVERSAL:
        raise ValidationFailed("reversal_of_reversal", _("冲正交易不能再被冲正，如需更正请重新入账。"))

    def write():
        _lock_audit_chain()
        if TimeTransaction.objects.filter(reverses=original).exists():
            raise Conflict("already_reversed", _("该笔交易已被冲正。"))
        lines = [(e.account, -e.amount) for e in entries]

        def make():
            try:
                with _atomic():
                    return TimeTransaction.objects.create(
                        kind=TxnKind.REVERSAL, hours=original.hours, memo=reason, reverses=original,
                        created_by=_user_or_none(actor), created_at=timezone.now())
            except IntegrityError:
                raise Conflict("already_reversed", _("该笔交易已被冲正。")) from None

        txn = _post(None, lines, make_txn=make,
                    refuse_message=_("冲正后有账户余额将低于 0（时间币已被使用），不能冲正。"))
        audit.record(actor, "timebank.reverse", txn, after={"reverses": original.pk, "reason": reason,
                                                              "hours": str(original.hours)})
        return txn

    return _serialised(write)


def _atomic():
    return transaction_module.atomic()


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---- family ----

def is_family(a: Person, b: Person) -> bool:
    lo, hi = sorted((a.pk, b.pk))
    return FamilyLink.objects.filter(person_a_id=lo, person_b_id=hi).exists()


def family_links(person: Person) -> list[tuple[FamilyLink, Person]]:
    """The person's family links, each with the other person, by name."""
    out = [(link, link.person_b) for link in FamilyLink.objects.filter(person_a=person).select_related("person_b")]
    out += [(link, link.person_a) for link in FamilyLink.objects.filter(person_b=person).select_related("person_a")]
    return sorted(out, key=lambda x: (x[1].name, x[1].pk))


def family_of(person: Person) -> list[tuple[Person, str]]:
    """The person's recorded family members with the relation, by name."""
    return [(other, link.relation) for link, other in family_links(person)]


def link_family(*, actor, person, relative, relation) -> FamilyLink:
    """A community worker records two people as family (timebank.manage over `person`)."""
    person = _person(person, label=_("人员"))
    relative = _person(relative, label=_("家庭成员"))
    # Both people: a worker of one community must not tie in someone of another to receive credits.
    scopes.require(actor, "timebank.manage", person)
    scopes.require(actor, "timebank.manage", relative)
    refuse_self(actor, person, relative, message=_("不能为本人登记家庭成员，请由其他工作人员办理。"))
    relation = _text(relation, field_label=_("关系"), max_len=RELATION_MAX, required=True)
    if person.pk == relative.pk:
        raise ValidationFailed("same_person", _("不能把本人登记为自己的家庭成员。"))
    lo, hi = sorted((person.pk, relative.pk))

    def write():
        if FamilyLink.objects.filter(person_a_id=lo, person_b_id=hi).exists():
            raise Conflict("already_linked", _("两人已登记为家庭成员。"))
        try:
            with _atomic():
                link = FamilyLink.objects.create(person_a_id=lo, person_b_id=hi, relation=relation,
                                                 created_by=_user_or_none(actor))
        except IntegrityError:
            raise Conflict("already_linked", _("两人已登记为家庭成员。")) from None
        audit.record(actor, "timebank.family_link", link, after={"a": lo, "b": hi, "relation": relation})
        return link

    return _serialised(write)



def unlink_family(*, actor, link) -> None:
    """Remove a family link recorded by mistake (timebank.manage over both people). Past
    transfers stay in the ledger; only future transfers between the two are refused."""
    pk = link.pk if isinstance(link, FamilyLink) else _int_or_none(link)
    found = FamilyLink.objects.filter(pk=pk).select_related("person_a", "person_b").first()
    if found is None:
        raise NotFound("link_not_found", _("未找到该家庭成员登记。"))
    if not (scopes.can(actor, "timebank.manage", found.person_a)
            and scopes.can(actor, "timebank.manage", found.person_b)):
        raise PermissionDenied("forbidden", _("您没有权限执行此操作。"), {"action": "timebank.manage"})

    def write():
        before = {"a": found.person_a_id, "b": found.person_b_id, "relation": found.relation}
        if not FamilyLink.objects.filter(pk=found.pk).delete()[0]:
            raise Conflict("already_unlinked", _("该家庭成员登记已被删除。"))
        audit.record(actor, "timebank.family_unlink", object_type="timebank.familylink", object_id=found.pk,
                     before=before)

    _serialised(write)


def person_by_phone(phone) -> Person:
    """The one person registered with this mobile number (found by its keyed hash, never decrypted)."""
    from gongzhi.core import pii

    phone = (phone or "").strip() if isinstance(phone, str) else ""
    if not phone:
        raise ValidationFailed("phone_required", _("请填写对方的手机号。"))
    people = list(Person.objects.filter(phone_hash=pii.lookup_hash(phone))[:2])
    if not people:
        raise NotFound("person_not_found", _("未找到手机号为 %(phone)s 的人员。") % {"phone": pii.mask_phone(phone)})
    if len(people) > 1:
        raise ValidationFailed("phone_ambiguous", _("该手机号登记了多人，请到社区办理。"))
    return people[0]
