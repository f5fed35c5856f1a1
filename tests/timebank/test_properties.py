"""Property tests: any sequence of credits, spends, transfers and reversals — valid or not — keeps the
ledger's invariants, and a model of the balances predicts exactly which operations succeed.

After every step: each transaction's entries sum to zero, all accounts sum to zero, no person
balance is below zero, each stored balance equals the sum of its entries (and the last entry's
balance_after), the ledger check selector agrees, entries written earlier are unchanged. Each example runs in a savepoint that is
rolled back, on one small community built once.
"""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gongzhi.core.errors import GongzhiError
from gongzhi.timebank import selectors, services
from gongzhi.timebank.models import AccountKind, TimeAccount, TimeEntry, TimeTransaction, TxnKind

D = Decimal
# No shrinking: a failure prints its steps as they ran, and shrinking a database test takes minutes.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
PEOPLE = ["li", "wang", "son", "far"]

hours_st = st.one_of(
    st.decimals(min_value=D("-3"), max_value=D("30"), places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["0", "1.234", "abc", "-0.01", "0.01", "24", "24.01", " 2 ", ""]),
)


def valid(hours, max_hours):
    try:
        return services.parse_hours(hours, max_hours=max_hours)
    except GongzhiError:
        return None


def assert_ledger_whole():
    """Summed in Python from the stored Decimals (exact on SQLite too, whose SUM works in floats)."""
    entries = list(TimeEntry.objects.values_list("id", "transaction", "account", "amount", "balance_after"))
    per_txn, per_acc = defaultdict(Decimal), defaultdict(Decimal)
    count = defaultdict(int)
    for _id, txn, acc, amount, _after in entries:
        per_txn[txn] += amount
        per_acc[acc] += amount
        count[txn] += 1
    assert set(TimeTransaction.objects.values_list("pk", flat=True)) == set(per_txn)
    assert all(v == 0 for v in per_txn.values()) and all(n >= 2 for n in count.values())
    accounts = list(TimeAccount.objects.all())
    assert sum(a.balance for a in accounts) == 0
    last_after = {acc: after for _id, _t, acc, _a, after in sorted(entries)}
    for a in accounts:
        assert a.balance == per_acc[a.pk] == last_after.get(a.pk, D("0"))
        assert a.kind == AccountKind.ISSUING or a.balance >= 0
    assert selectors.ledger_check().ok


class LedgerMachine(RuleBasedStateMachine):
    town = None  # set by the test

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.people = {k: getattr(self.town, k) for k in PEOPLE}
        self.users = {"li": self.town.u_li, "wang": self.town.u_wang}
        self.expected = dict.fromkeys(PEOPLE, D("0"))
        self.refs = {}
        self.txns = []  # (txn id, {person key: signed amount}, kind)
        self.reversed = set()
        self.snapshot = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _actor(self, key):
        return self.users.get(key, self.town.both)  # staff act for people without an account

    def _try(self, fn):
        try:
            return fn(), None
        except GongzhiError as exc:
            assert str(exc.message), exc.code
            return None, exc

    @rule(who=st.sampled_from(PEOPLE), hours=hours_st, ref=st.integers(0, 5))
    def credit(self, who, hours, ref):
        key = ("activity", f"{ref}:{who}")
        amount = valid(hours, D("24"))
        txn, err = self._try(lambda: services.credit_hours(person=self.people[who], hours=hours,
                                                           source=key[0], source_ref=key[1]))
        if amount is None:
            assert err is not None and err.status == 400
            return
        assert err is None
        if key in self.refs:
            assert txn.pk == self.refs[key]
            return
        self.refs[key] = txn.pk
        self.expected[who] += amount
        self.txns.append((txn.pk, {who: amount}, TxnKind.CREDIT))

    def _move(self, kind, payer, payee, hours):
        amount = valid(hours, services.MOVE_MAX)
        fn = services.transfer if kind == TxnKind.TRANSFER else services.spend
        kw = ({"from_person": self.people[payer], "to_person": self.people[payee]} if kind == TxnKind.TRANSFER
              else {"payer_person": self.people[payer], "provider_person": self.people[payee]})
        txn, err = self._try(lambda: fn(actor=self._actor(payer), hours=hours, memo="prop", **kw))
        family = {frozenset(("li", "son")), frozenset(("wang", "far"))}
        ok = (amount is not None and payer != payee and amount <= self.expected[payer]
              and (kind != TxnKind.TRANSFER or frozenset((payer, payee)) in family))
        assert (err is None) == ok, (kind, payer, payee, hours, self.expected, err and err.code)
        if ok:
            self.expected[payer] -= amount
            self.expected[payee] += amount
            self.txns.append((txn.pk, {payer: -amount, payee: amount}, kind))

    @rule(payer=st.sampled_from(PEOPLE), payee=st.sampled_from(PEOPLE), hours=hours_st)
    def spend(self, payer, payee, hours):
        self._move(TxnKind.SPEND, payer, payee, hours)

    @rule(payer=st.sampled_from(PEOPLE), payee=st.sampled_from(PEOPLE), hours=hours_st)
    def transfer(self, payer, payee, hours):
        self._move(TxnKind.TRANSFER, payer, payee, hours)

    @precondition(lambda self: self.txns)
    @rule(i=st.integers(0, 1000))
    def reverse(self, i):
        pk, deltas, kind = self.txns[i % len(self.txns)]
        _r, err = self._try(lambda: services.reverse(actor=self.town.both, transaction=pk, reason="更正"))
        ok = (kind != TxnKind.REVERSAL and pk not in self.reversed
              and all(self.expected[k] - v >= 0 for k, v in deltas.items()))
        assert (err is None) == ok, (pk, deltas, kind, self.expected, err and err.code)
        if ok:
            self.reversed.add(pk)
            for k, v in deltas.items():
                self.expected[k] -= v
            self.txns.append((_r.pk, {k: -v for k, v in deltas.items()}, TxnKind.REVERSAL))

    @invariant()
    def ledger_holds(self):
        assert_ledger_whole()
        for k, p in self.people.items():
            assert services.balance(p) == self.expected[k]
        rows = {e[0]: e[1:] for e in TimeEntry.objects.values_list("pk", "transaction", "account", "amount",
                                                                    "balance_after")}
        for pk, row in self.snapshot.items():
            assert rows[pk] == row
        self.snapshot = rows


@pytest.mark.django_db
def test_any_sequence_keeps_the_ledger_whole(town):
    services.link_family(actor=town.worker, person=town.li, relative=town.son, relation="儿子")
    services.link_family(actor=town.both, person=town.far, relative=town.wang, relation="兄弟")
    LedgerMachine.town = town
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=15, deadline=None, phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
