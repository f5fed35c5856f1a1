"""Reads of the time bank: statements, accounts in scope and the ledger check. Pages and API share them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import bounds, scopes
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.org.models import Person
from gongzhi.places.models import Place

from .models import (
    AccountKind,
    CreditRequest,
    CreditRequestState,
    TimeAccount,
    TimeEntry,
    TimeTransaction,
    TxnKind,
)


def _cents(field: str):
    """Whole cents of a decimal column. SQLite keeps decimals as floats, so a plain SUM drifts
    (0.1 + 0.2 …); a sum of rounded cents is exact there and on PostgreSQL alike."""
    return Round(F(field) * 100)


def _from_cents(value) -> Decimal:
    return (Decimal(round(value or 0)) / 100).quantize(Decimal("0.01"))


def parse_date(value, *, label) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return bounds.check_day(value, label)
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("bad_date", _("%(field)s格式应为 YYYY-MM-DD。") % {"field": label}) from None
    return bounds.check_day(day, label)


def account_or_none(person: Person) -> TimeAccount | None:
    return TimeAccount.objects.filter(person=person).first()


def statement(account: TimeAccount | None, *, date_from=None, date_to=None):
    """The account's entries, newest first, each with its transaction and the balance after it.

    Dates are local (Asia/Shanghai) and inclusive."""
    date_from = parse_date(date_from, label=_("开始日期"))
    date_to = parse_date(date_to, label=_("结束日期"))
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("bad_range", _("开始日期不能晚于结束日期。"))
    if account is None:
        return TimeEntry.objects.none()
    qs = (TimeEntry.objects.filter(account=account)
          .select_related("transaction", "transaction__reverses", "transaction__created_by")
          .order_by("-id"))
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def counterparties(entries) -> dict[int, list[TimeEntry]]:
    """For a page of entries: the other entries of each one's transaction (who paid whom)."""
    txn_ids = {e.transaction_id for e in entries}
    out: dict[int, list[TimeEntry]] = {}
    for other in TimeEntry.objects.filter(transaction_id__in=txn_ids).select_related("account__person",
                                                                                      "account__place"):
        out.setdefault(other.transaction_id, []).append(other)
    return out


def hours_earned(person: Person, year: int | None = None) -> Decimal:
    """Hours credited for service in the year (local), net of credits reversed."""
    year = year or timezone.localdate().year
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    q = Q(transaction__kind=TxnKind.CREDIT) | Q(transaction__kind=TxnKind.REVERSAL,
                                                 transaction__reverses__kind=TxnKind.CREDIT)
    total = (TimeEntry.objects.filter(q, account__person=person, created_at__gte=start, created_at__lt=end)
             .aggregate(s=Sum(_cents("amount")))["s"])
    return _from_cents(total)


def accounts_in_scope(user, *, q: str = "", action: str = "timebank.view"):
    """Person accounts of people in the user's scope, optionally searched by name; by name."""
    people = Person.objects.filter(scopes.scope_q(user, action, Person))
    qs = TimeAccount.objects.filter(kind=AccountKind.PERSON, person__in=people).select_related("person", "place")
    q = (q or "").strip()
    if q:
        qs = qs.filter(person__name__icontains=q)
    return qs.order_by("person__name", "id")


def account_for_staff(user, pk, action: str = "timebank.view") -> TimeAccount:
    """A person account the user may see (404 otherwise, so ids outside the scope are not probed)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    acc = TimeAccount.objects.filter(pk=pk, kind=AccountKind.PERSON).select_related("person", "place").first()
    if acc is None or not scopes.can(user, action, acc):
        raise NotFound("account_not_found", _("未找到该时间账户。"))
    return acc


def credit_requests_in_scope(user, *, state: str = CreditRequestState.PENDING):
    """Manual credit requests for people in the user's time bank scope, newest first ("" = any state)."""
    people = Person.objects.filter(scopes.scope_q(user, "timebank.view", Person))
    qs = CreditRequest.objects.filter(person__in=people).select_related(
        "person", "requested_by", "decided_by", "transaction")
    if state and state not in CreditRequestState.values:
        raise ValidationFailed("bad_state", _("状态只能是：%(s)s。") % {"s": "、".join(CreditRequestState.values)})
    return qs.filter(state=state) if state else qs


def credit_request_get_for(user, pk) -> CreditRequest:
    """One request from that same scoped set: the same 404 for missing and not yours."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    req = credit_requests_in_scope(user, state="").filter(pk=pk).first()
    if req is None:
        raise NotFound("request_not_found", _("未找到该入账申请。"))
    return req


@dataclass
class LedgerCheck:
    places: list  # [(place or None, issued, held)]
    total_issued: Decimal
    total_held: Decimal
    sum_all: Decimal
    sum_entries: Decimal
    unbalanced_transactions: list
    mismatched_accounts: list
    transactions: int

    @property
    def ok(self) -> bool:
        return (self.sum_all == 0 and self.sum_entries == 0 and not self.unbalanced_transactions
                and not self.mismatched_accounts)


def ledger_check(user=None) -> LedgerCheck:
    """Issued and held credits in the user's scope (all when None), and whole-ledger checks.

    The zero-sum checks always cover the whole ledger: a transfer between two communities leaves
    each community's part uneven, only the whole sums to zero."""
    issuing = TimeAccount.objects.filter(kind=AccountKind.ISSUING).select_related("place")
    held = TimeAccount.objects.filter(kind=AccountKind.PERSON)
    if user is not None:
        places = Place.objects.filter(scopes.scope_q(user, "timebank.view", Place))
        issuing = issuing.filter(place__in=places)
        held = held.filter(person__in=Person.objects.filter(scopes.scope_q(user, "timebank.view", Person)))
    rows = []
    held_by_place = dict(held.values("person__registered_community").annotate(s=Sum(_cents("balance")))
                         .values_list("person__registered_community", "s"))
    for acc in issuing.order_by("place__path"):
        rows.append((acc.place, -acc.balance, _from_cents(held_by_place.get(acc.place_id))))
    sums = TimeTransaction.objects.annotate(total=Sum(_cents("entries__amount")), n=Count("entries"))
    unbalanced = list(sums.filter(~Q(total=0) | Q(n__lt=2)).values_list("pk", flat=True)[:50])
    per_account = dict(TimeEntry.objects.values("account").annotate(s=Sum(_cents("amount")))
                       .values_list("account", "s"))
    mismatched = [pk for pk, bal in TimeAccount.objects.values_list("pk", "balance")
                  if _from_cents(per_account.get(pk)) != bal][:50]
    return LedgerCheck(
        places=rows,
        total_issued=-_from_cents(issuing.aggregate(s=Sum(_cents("balance")))["s"]),
        total_held=_from_cents(held.aggregate(s=Sum(_cents("balance")))["s"]),
        sum_all=_from_cents(TimeAccount.objects.aggregate(s=Sum(_cents("balance")))["s"]),
        sum_entries=_from_cents(TimeEntry.objects.aggregate(s=Sum(_cents("amount")))["s"]),
        unbalanced_transactions=unbalanced,
        mismatched_accounts=mismatched,
        transactions=TimeTransaction.objects.count(),
    )
