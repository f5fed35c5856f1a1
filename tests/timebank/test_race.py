"""Concurrent transfers from one account never overdraw it; concurrent duplicate credits credit once.

Real transactions, one connection per thread, released together by a barrier. On PostgreSQL the
payer's account row lock (SELECT … FOR UPDATE) queues them; on SQLite the IMMEDIATE transaction does.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gongzhi.core.errors import GongzhiError
from gongzhi.timebank import services
from gongzhi.timebank.models import TimeTransaction
from tests.factories import user
from tests.race import join_all
from tests.timebank.conftest import credit, person
from tests.timebank.test_properties import assert_ledger_whole

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def run_all(fns):
    barrier, results = threading.Barrier(len(fns)), [None] * len(fns)

    def go(i, fn):
        try:
            barrier.wait()
            results[i] = ("ok", fn())
        except GongzhiError as exc:
            results[i] = (exc.code, exc)
        except Exception as exc:  # shown by the assertions
            results[i] = (repr(exc), exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    join_all(threads, 120)
    assert None not in results, results  # every thread reported back
    return results


def _family(town, a, b):
    services.link_family(actor=town.both, person=a, relative=b, relation="家人")


def test_ten_transfers_of_most_of_a_balance_leave_exactly_one(town):
    credit(town.li, 10)
    _family(town, town.li, town.son)
    results = run_all([lambda: services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son,
                                                 hours="7") for _ in range(10)])
    codes = sorted(r[0] for r in results)
    assert codes == ["insufficient_balance"] * 9 + ["ok"], results
    assert (services.balance(town.li), services.balance(town.son)) == (D("3.00"), D("7.00"))
    assert_ledger_whole()


def test_transfers_and_spends_from_one_account_take_exactly_the_affordable_ones(town):
    credit(town.li, 10)
    _family(town, town.li, town.son)
    fns = [lambda: services.transfer(actor=town.u_li, from_person=town.li, to_person=town.son, hours="3")] * 4
    fns += [lambda: services.spend(actor=town.u_li, payer_person=town.li, provider_person=town.wang, hours="3")] * 4
    results = run_all(fns)
    assert sorted(r[0] for r in results).count("ok") == 3, results
    assert services.balance(town.li) == D("1.00")
    assert services.balance(town.son) + services.balance(town.wang) == D("9.00")
    assert_ledger_whole()


def test_concurrent_duplicate_credits_credit_once(town):
    results = run_all([lambda: services.credit_hours(person=town.li, hours="2", source="activity",
                                                     source_ref="5:1") for _ in range(6)])
    assert {r[0] for r in results} == {"ok"}, results
    assert len({r[1].pk for r in results}) == 1
    assert services.balance(town.li) == D("2.00")
    assert TimeTransaction.objects.filter(source="activity", source_ref="5:1").count() == 1
    assert_ledger_whole()


@given(start=st.integers(1, 20), amounts=st.lists(st.integers(1, 12), min_size=2, max_size=6))
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_concurrent_transfers_never_overdraw(town, start, amounts):
    payer = person("付出方", town.beining)
    kin = person("家人", town.beining)
    _family(town, payer, kin)
    credit(payer, start)
    results = run_all([lambda a=a: services.transfer(actor=town.both, from_person=payer, to_person=kin, hours=a)
                       for a in amounts])
    done = [a for a, r in zip(amounts, results, strict=True) if r[0] == "ok"]
    failed = [a for a, r in zip(amounts, results, strict=True) if r[0] != "ok"]
    assert all(r[0] in ("ok", "insufficient_balance") for r in results), results
    final = services.balance(payer)
    assert final == start - sum(done) and final >= 0
    assert services.balance(kin) == sum(done)
    # Balances only fall, so a refused transfer asked for more than was left at the end.
    assert all(a > final for a in failed)
    assert_ledger_whole()


def test_two_staff_approving_one_pending_credit_post_it_once(town):
    req = services.manual_credit(actor=town.worker, person=town.li, hours=20, reason="防汛值守")
    second = user("cw2", ("community_worker", town.beining))
    results = run_all([lambda: services.approve_credit(actor=town.both, request=req.pk),
                       lambda: services.approve_credit(actor=second, request=req.pk)])
    codes = sorted(r[0] for r in results)
    assert codes in (["already_decided", "ok"], ["busy", "ok"]), results
    assert services.balance(town.li) == D("20.00")
    assert TimeTransaction.objects.filter(source="manual", source_ref=f"request:{req.pk}").count() == 1
    assert_ledger_whole()
