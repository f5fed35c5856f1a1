"""The time bank's services: credits (idempotent), spends, family transfers, reversals, refusals."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.timebank import selectors, services
from gongzhi.timebank.models import AccountKind, FamilyLink, TimeAccount, TimeEntry, TimeTransaction
from tests.timebank.conftest import credit

D = Decimal


def ledger_state():
    return (list(TimeAccount.objects.values_list("pk", "balance", "version").order_by("pk")),
            TimeTransaction.objects.count(), TimeEntry.objects.count(), AuditEntry.objects.count())


def test_credit_issues_from_the_community_and_is_idempotent(town):
    t = services.credit_hours(person=town.li, hours="2.5", source="activity", source_ref="7:1", memo="敬老")
    again = services.credit_hours(person=town.li, hours="2.5", source="activity", source_ref="7:1")
    assert again.pk == t.pk
    assert services.balance(town.li) == D("2.50")
    issuing = TimeAccount.objects.get(kind=AccountKind.ISSUING)
    assert issuing.place == town.beining and issuing.balance == D("-2.50")
    assert sorted(e.amount for e in t.entries.all()) == [D("-2.50"), D("2.50")]
    assert AuditEntry.objects.filter(action="timebank.credit", object_id=str(t.pk)).count() == 1
    # Another source with the same ref is a different credit.
    services.credit_hours(person=town.li, hours=1, source="project", source_ref="7:1")
    assert services.balance(town.li) == D("3.50")
    assert selectors.hours_earned(town.li) == D("3.50")


def test_credit_inside_a_callers_transaction_rolls_back_with_it(town):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.credit_hours(person=town.li, hours=1, source="activity", source_ref="1:1")
        raise RuntimeError("caller failed")
    assert services.balance(town.li) == 0 and not TimeTransaction.objects.exists()


def test_person_without_community_is_credited_from_the_platform_account(town):
    from gongzhi.org.models import Person

    p = Person.objects.create(name="无社区")
    credit(p, 1)
    assert TimeAccount.objects.get(kind=AccountKind.ISSUING, place__isnull=True).balance == D("-1.00")


@pytest.mark.parametrize("hours, code", [
    ("0", "hours_not_positive"), ("-1", "hours_not_positive"), ("1.234", "hours_precision"),
    ("24.01", "hours_too_large"), ("abc", "hours_invalid"), ("", "hours_required"), ("NaN", "hours_invalid"),
    (True, "hours_required"),
])
def test_bad_credit_hours_are_refused_and_change_nothing(town, hours, code):
    before = ledger_state()
    with pytest.raises(ValidationFailed) as e:
        services.credit_hours(person=town.li, hours=hours, source="activity", source_ref="1:1")
    assert e.value.code == code and str(e.value.message)
    assert ledger_state() == before


def test_credit_needs_source_and_a_known_person(town):
    with pytest.raises(ValidationFailed):
        services.credit_hours(person=town.li, hours=1, source="", source_ref="x")
    with pytest.raises(NotFound):
        services.credit_hours(person=999999, hours=1, source="a", source_ref="x")


def test_spend_pays_the_provider_and_refuses_overdraft(town):
    credit(town.li, 3)
    t = services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.wang, hours="1.5", memo="理发")
    assert (services.balance(town.li), services.balance(town.wang)) == (D("1.50"), D("1.50"))
    assert sum(e.amount for e in t.entries.all()) == 0
    before = ledger_state()
    with pytest.raises(ValidationFailed) as e:
        services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.wang, hours="1.51")
    assert e.value.code == "insufficient_balance" and "余额不足" in str(e.value.message)
    with pytest.raises(ValidationFailed) as e:
        services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.li, hours="1")
    assert e.value.code == "same_person"
    assert ledger_state() == before


def test_only_the_owner_or_staff_in_scope_may_move_credits(town):
    credit(town.li, 3)
    with pytest.raises(PermissionDenied):
        services.spend(actor=town.u_wang, payer_person=town.li, provider_person=town.wang, hours=1)
    with pytest.raises(PermissionDenied):
        services.spend(actor=town.worker_xn, payer_person=town.li, provider_person=town.wang, hours=1)
    services.spend(actor=town.worker, payer_person=town.li, provider_person=town.wang, hours=1)
    assert services.balance(town.wang) == 1


def test_transfer_only_to_recorded_family(town):
    credit(town.li, 5)
    with pytest.raises(ValidationFailed) as e:
        services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours=1)
    assert e.value.code == "not_family"
    with pytest.raises(PermissionDenied):
        services.link_family(actor=town.worker_xn, person=town.li, relative=town.son, relation="儿子")
    link = services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    assert (link.person_a_id, link.person_b_id) == tuple(sorted((town.li.pk, town.son.pk)))
    with pytest.raises(Conflict):
        services.link_family(actor=town.worker, person=town.son, relative=town.li, relation="母亲")
    services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son.pk, hours="2", memo="给儿子")
    assert (services.balance(town.li), services.balance(town.son)) == (D("3.00"), D("2.00"))
    with pytest.raises(ValidationFailed) as e:
        services.transfer(actor=town.u_li, from_person=town.li, to_person=town.li, hours=1)
    assert e.value.code == "same_person" and str(e.value.message) == "不能转给自己。"
    with pytest.raises(NotFound):
        services.transfer(actor=town.u_li, from_person=town.li, to_person=987654, hours=1)
    assert services.family_of(town.li) == [(town.son, "儿子")]
    assert FamilyLink.objects.count() == 1


def test_reverse_undoes_once_and_never_below_zero(town):
    c = credit(town.li, 4)
    services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    t = services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours=3)
    with pytest.raises(PermissionDenied):
        services.reverse(actor=town.officer, transaction=t, reason="误操作")  # view only
    with pytest.raises(ValidationFailed):
        services.reverse(actor=town.worker, transaction=t, reason=" ")
    r = services.reverse(actor=town.worker, transaction=t.pk, reason="误操作")
    assert r.reverses == t and (services.balance(town.li), services.balance(town.son)) == (D("4.00"), 0)
    with pytest.raises(Conflict) as e:
        services.reverse(actor=town.worker, transaction=t, reason="再来")
    assert e.value.code == "already_reversed"
    with pytest.raises(ValidationFailed) as e:
        services.reverse(actor=town.worker, transaction=r, reason="反冲")
    assert e.value.code == "reversal_of_reversal"
    # The credit's hours were given away: reversing it would drive 李 below zero.
    services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours=2)
    before = ledger_state()
    with pytest.raises(ValidationFailed) as e:
        services.reverse(actor=town.worker, transaction=c, reason="重复入账")
    assert e.value.code == "insufficient_balance" and "冲正" in str(e.value.message)
    assert ledger_state() == before
    with pytest.raises(NotFound):
        services.reverse(actor=town.worker, transaction=424242, reason="x")


def test_manual_credit_needs_manage_and_a_reason(town):
    with pytest.raises(PermissionDenied):
        services.manual_credit(actor=town.officer, person=town.li, hours=1, reason="补录")
    with pytest.raises(ValidationFailed):
        services.manual_credit(actor=town.worker, person=town.li, hours=1, reason="")
    t = services.manual_credit(actor=town.worker, person=town.li, hours="1.25", reason="补录上月活动")
    assert t.source == "manual" and t.created_by == town.worker and services.balance(town.li) == D("1.25")


def test_entries_and_transactions_are_immutable(town):
    t = credit(town.li, 2)
    e = t.entries.first()
    original = e.amount
    e.amount = D("99")
    with pytest.raises(TypeError):
        e.save()
    with pytest.raises(TypeError):
        e.delete()
    with pytest.raises(TypeError):
        TimeEntry.objects.filter(pk=e.pk).update(amount=1)
    with pytest.raises(TypeError):
        TimeEntry.objects.all().delete()
    with pytest.raises(TypeError):
        t.entries.update(amount=5)
    with pytest.raises(TypeError):
        TimeTransaction.objects.filter(pk=t.pk).update(memo="x")
    # Below the model layer the database refuses too (trigger).
    from django.db import connection

    with pytest.raises(Exception) as exc, transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE timebank_timeentry SET amount = 99 WHERE id = %s", [e.pk])
    assert "immutable" in str(exc.value)
    if connection.vendor == "postgresql":
        with pytest.raises(Exception) as exc, transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM timebank_timeentry WHERE id = %s", [e.pk])
        assert "immutable" in str(exc.value)
    assert TimeEntry.objects.get(pk=e.pk).amount == original


def test_database_refuses_a_negative_person_balance(town):
    acc = services.account_of(town.li)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeAccount.objects.filter(pk=acc.pk).update(balance=D("-1"))


def test_statement_runs_balance_and_filters_by_date(town):
    import datetime as dt

    from django.utils import timezone

    credit(town.li, 3)
    services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.wang, hours=1)
    acc = selectors.account_or_none(town.li)
    lines = list(selectors.statement(acc))
    assert [(e.amount, e.balance_after) for e in lines] == [(D("-1.00"), D("2.00")), (D("3.00"), D("3.00"))]
    today = timezone.localdate()
    assert selectors.statement(acc, date_from=today, date_to=today).count() == 2
    assert selectors.statement(acc, date_from=today + dt.timedelta(days=1)).count() == 0
    with pytest.raises(ValidationFailed):
        selectors.statement(acc, date_from="2026-13-01")
    with pytest.raises(ValidationFailed):
        selectors.statement(acc, date_from=today, date_to=today - dt.timedelta(days=1))


def test_ledger_check_sums_to_zero(town):
    credit(town.li, 3)
    credit(town.far, 2)
    services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.far, hours=1)
    c = selectors.ledger_check()
    assert c.ok and c.sum_all == 0 and c.total_issued == D("5.00") and c.total_held == D("5.00")
    mine = selectors.ledger_check(town.worker)
    assert mine.total_issued == D("3.00") and mine.total_held == D("2.00")
    assert [(p.name, i, h) for p, i, h in mine.places] == [("北宁社区", D("3.00"), D("2.00"))]


def test_unlink_family_stops_future_transfers_and_keeps_the_past(town):
    credit(town.li, 3)
    link = services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours=1)
    with pytest.raises(PermissionDenied):
        services.unlink_family(actor=town.worker_xn, link=link)
    with pytest.raises(PermissionDenied):
        services.unlink_family(actor=town.u_li, link=link)
    services.unlink_family(actor=town.worker, link=link.pk)
    assert AuditEntry.objects.filter(action="timebank.family_unlink", object_id=str(link.pk)).exists()
    with pytest.raises(ValidationFailed) as e:
        services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours=1)
    assert e.value.code == "not_family"
    assert services.balance(town.son) == 1
    with pytest.raises(NotFound):
        services.unlink_family(actor=town.worker, link=link.pk)
