"""The rotating chair: fairness across years, newcomers and lapses, publication freezes, swaps by
consent, permissions and bad input."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from gongzhi.core.audit import AuditEntry
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.deliberation import roster, services
from gongzhi.deliberation.models import ChairSwap, ChairTerm, SwapState, TermSource
from gongzhi.notifications.models import Notification
from gongzhi.org.models import Organization
from tests.deliberation.conftest import join

pytestmark = pytest.mark.django_db
JAN_2026 = dt.date(2026, 1, 1)


def months(w, year):
    return [t.unit_id for t in ChairTerm.objects.filter(committee=w.committee, month__year=year).order_by("month")]


def generate(w, year, today=JAN_2026, actor=None):
    return services.roster_generate(actor=actor or w.cw, committee=w.committee, year=year, today=today)


def test_every_unit_chairs_once_before_any_chairs_twice_across_years(world):
    w = world
    generate(w, 2026)
    generate(w, 2027)
    ids = [u.pk for u in w.units]
    seq = months(w, 2026) + months(w, 2027)
    assert len(seq) == 24
    # Five units: a round robin in order of joining, carried over the new year without a restart.
    assert seq == [ids[k % 5] for k in range(24)]
    for start in range(24 - 5 + 1):
        assert sorted(seq[start:start + 5]) == sorted(ids)


def test_a_unit_that_joins_later_chairs_next_without_moving_published_months(world):
    w = world
    generate(w, 2026)
    services.roster_publish(actor=w.cw, committee=w.committee, year=2026, through=dt.date(2026, 3, 1))
    before = months(w, 2026)
    newcomer = Organization.objects.create(kind="institution", name="兴宁区图书馆", place=w.beining)
    join(w.committee, newcomer, joined=dt.date(2026, 3, 15))
    result = generate(w, 2026, today=dt.date(2026, 3, 20))
    after = months(w, 2026)
    assert after[:3] == before[:3]  # published: frozen
    # The newcomer has never chaired: it comes after the two units still waiting for their first turn
    # (they joined earlier) and ahead of anyone's second turn.
    assert after[3:6] == [w.units[3].pk, w.units[4].pk, newcomer.pk]
    assert after[6:8] == [w.units[0].pk, w.units[1].pk]
    assert dt.date(2026, 1, 1) in result.kept and dt.date(2026, 6, 1) in result.changed
    counts = {u: after.count(u) for u in set(after)}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_a_unit_whose_agreement_lapses_leaves_the_cycle(world):
    w = world
    lapsing = w.units[2]
    agreement = lapsing.member_of.get().agreements.get()
    agreement.ends_on = dt.date(2026, 5, 31)
    agreement.save()
    generate(w, 2026)
    seq = months(w, 2026)
    assert lapsing.pk in seq[:5]
    assert lapsing.pk not in seq[5:]  # from June on it is not a member's month any more
    assert len(seq) == 12


def test_months_without_any_eligible_unit_are_gaps_and_no_units_at_all_is_refused(world):
    w = world
    for u in w.units:
        ag = u.member_of.get().agreements.get()
        ag.ends_on = dt.date(2026, 2, 28)
        ag.save()
    result = generate(w, 2026)
    assert len(months(w, 2026)) == 2 and len(result.gaps) == 10
    with pytest.raises(ValidationFailed) as exc:
        generate(w, 2027)
    assert exc.value.code == "roster_no_units"
    empty = Organization.objects.create(kind="joint_committee", name="空联合党委", place=w.beining)
    with pytest.raises(ValidationFailed):
        services.roster_generate(actor=w.cw, committee=empty, year=2026)
    assert not ChairTerm.objects.filter(committee=empty).exists()


def test_generation_is_idempotent_and_keeps_months_past(world):
    w = world
    generate(w, 2026)
    first = months(w, 2026)
    again = generate(w, 2026)
    assert months(w, 2026) == first and again.changed == []
    # Months before today are history, even unpublished: a newcomer does not rewrite them.
    newcomer = Organization.objects.create(kind="institution", name="兴宁区图书馆", place=w.beining)
    join(w.committee, newcomer, joined=dt.date(2026, 1, 1))
    generate(w, 2026, today=dt.date(2026, 6, 10))
    assert months(w, 2026)[:5] == first[:5] and months(w, 2026)[5] == newcomer.pk  # June: its first turn


def test_publication_freezes_notifies_the_chairs_and_is_audited(world):
    w = world
    generate(w, 2026)
    n = services.roster_publish(actor=w.cw, committee=w.committee, year=2026)
    assert n == 12 and not ChairTerm.objects.filter(committee=w.committee, published_at__isnull=True).exists()
    note = Notification.objects.filter(recipient=w.liaisons[0]).get()
    assert "轮值主席" in note.title and "2026-01" in note.title
    assert AuditEntry.objects.filter(action="deliberation.roster_publish").count() == 1
    with pytest.raises(ValidationFailed) as exc:
        services.roster_publish(actor=w.cw, committee=w.committee, year=2026)
    assert exc.value.code == "roster_nothing_to_publish"
    # A unit lapsing after publication changes nothing published.
    for u in w.units:
        u.member_of.update(status="suspended")
    generate(w, 2026)
    assert len(months(w, 2026)) == 12


def test_two_units_swap_a_month_by_both_liaisons_consent(world):
    w = world
    generate(w, 2026)
    jan, feb = ChairTerm.objects.filter(committee=w.committee, month__in=[JAN_2026, dt.date(2026, 2, 1)]).order_by("month")
    a, b = jan.unit, feb.unit
    la, lb = w.liaisons[w.units.index(a)], w.liaisons[w.units.index(b)]
    with pytest.raises(PermissionDenied):  # only the asking unit's liaison asks
        services.swap_request(actor=lb, term_id=jan.pk, other_term_id=feb.pk)
    swap = services.swap_request(actor=la, term_id=jan.pk, other_term_id=feb.pk, reason="一月单位年终审计")
    assert Notification.objects.filter(recipient=lb, kind="meeting").exists()
    with pytest.raises(Conflict):  # one open ask per month
        services.swap_request(actor=la, term_id=jan.pk, other_term_id=feb.pk)
    with pytest.raises(PermissionDenied):  # only the other unit's liaison consents
        services.swap_decide(actor=la, swap_id=swap.pk, accept=True)
    with pytest.raises(PermissionDenied):
        services.swap_decide(actor=w.cw, swap_id=swap.pk, accept=True)
    done = services.swap_decide(actor=lb, swap_id=swap.pk, accept=True)
    assert done.state == SwapState.ACCEPTED
    jan.refresh_from_db()
    feb.refresh_from_db()
    assert (jan.unit_id, feb.unit_id) == (b.pk, a.pk) and jan.source == TermSource.SWAPPED
    with pytest.raises(Conflict):
        services.swap_decide(actor=lb, swap_id=swap.pk, accept=False)
    # Re-planning keeps a swap made by consent.
    generate(w, 2026)
    jan.refresh_from_db()
    assert jan.unit_id == b.pk


def test_a_declined_or_withdrawn_swap_changes_nothing_and_published_months_cannot_swap(world):
    w = world
    generate(w, 2026)
    jan, feb, mar = ChairTerm.objects.filter(committee=w.committee, month__year=2026).order_by("month")[:3]
    la, lb, lc = (w.liaisons[w.units.index(t.unit)] for t in (jan, feb, mar))
    swap = services.swap_request(actor=la, term_id=jan.pk, other_term_id=feb.pk)
    assert services.swap_decide(actor=lb, swap_id=swap.pk, accept=False).state == SwapState.DECLINED
    swap = services.swap_request(actor=la, term_id=jan.pk, other_term_id=mar.pk)
    assert services.swap_withdraw(actor=la, swap_id=swap.pk).state == SwapState.WITHDRAWN
    with pytest.raises(Conflict):
        services.swap_decide(actor=lc, swap_id=swap.pk, accept=True)
    assert months(w, 2026)[:3] == [jan.unit_id, feb.unit_id, mar.unit_id]
    services.roster_publish(actor=w.cw, committee=w.committee, year=2026, through=JAN_2026)
    with pytest.raises(ValidationFailed) as exc:
        services.swap_request(actor=la, term_id=jan.pk, other_term_id=feb.pk)
    assert exc.value.code == "month_published"
    # An ask that publication overtook is withdrawn, and cannot be accepted afterwards.
    swap = services.swap_request(actor=lb, term_id=feb.pk, other_term_id=mar.pk)
    services.roster_publish(actor=w.cw, committee=w.committee, year=2026, through=dt.date(2026, 2, 1))
    assert ChairSwap.objects.get(pk=swap.pk).state == SwapState.WITHDRAWN


def test_a_swap_with_oneself_or_another_committee_is_refused(world):
    w = world
    generate(w, 2026)
    join(w.other, w.units[0])
    generate(w, 2026)
    mine = ChairTerm.objects.filter(committee=w.committee, unit=w.units[0]).order_by("month")
    la = w.liaisons[0]
    with pytest.raises(ValidationFailed):
        services.swap_request(actor=la, term_id=mine[0].pk, other_term_id=mine[1].pk)
    x = services.roster_generate(actor=w.cw_x, committee=w.other, year=2026, today=JAN_2026)
    assert x.assigned[JAN_2026] == w.units[0].pk
    other_term = ChairTerm.objects.get(committee=w.other, month=dt.date(2026, 2, 1))
    with pytest.raises(ValidationFailed):
        services.swap_request(actor=la, term_id=mine[0].pk, other_term_id=other_term.pk)


@pytest.mark.parametrize("who", ["resident", "auditor", "cw_x"])
def test_only_managers_in_scope_generate_or_publish(world, who):
    w = world
    with pytest.raises(PermissionDenied):
        services.roster_generate(actor=getattr(w, who), committee=w.committee, year=2026)
    generate(w, 2026)
    with pytest.raises(PermissionDenied):
        services.roster_publish(actor=getattr(w, who), committee=w.committee, year=2026)
    assert not ChairTerm.objects.filter(published_at__isnull=False).exists()


def test_who_sees_drafts(world):
    w = world
    assert services.can_view(w.cw, w.committee) and services.can_view(w.auditor, w.committee)
    assert services.can_view(w.liaisons[3], w.committee)
    assert not services.can_view(w.resident, w.committee) and not services.can_view(w.cw_x, w.committee)


@pytest.mark.parametrize("year", [1999, 2101, "abc", None])
def test_a_bad_year_is_refused(world, year):
    with pytest.raises(ValidationFailed) as exc:
        services.roster_generate(actor=world.cw, committee=world.committee, year=year)
    assert exc.value.code == "year_invalid"
    assert not ChairTerm.objects.exists()


def test_the_command_generates_publishes_and_refuses_clearly(world, capsys):
    w = world
    call_command("chair_roster", str(w.committee.pk), "2026", "--publish", "--through", "2026-06",
                 "--today", "2026-01-01")
    out = capsys.readouterr().out
    assert "2026-01" in out and w.units[0].name in out and "已发布 6 个月" in out
    assert ChairTerm.objects.filter(committee=w.committee, published_at__isnull=False).count() == 6
    call_command("chair_roster", w.committee.name, "2027", "--today", "2026-01-01")
    assert ChairTerm.objects.filter(committee=w.committee, month__year=2027).count() == 12
    with pytest.raises(CommandError, match="找不到"):
        call_command("chair_roster", "没有这个党委", "2026")
    with pytest.raises(CommandError, match="2000"):
        call_command("chair_roster", str(w.committee.pk), "1900")
    empty = Organization.objects.create(kind="joint_committee", name="空联合党委", place=w.beining)
    with pytest.raises(CommandError, match="没有有效的成员单位"):
        call_command("chair_roster", str(empty.pk), "2026")


@pytest.mark.django_db(transaction=True)
def test_two_liaisons_accepting_conflicting_swaps_leave_one_winner(world):
    """A asks B for February, C asks A for January; B and A consent at once: exactly one swap stands."""
    w = world
    generate(w, 2026)
    jan, feb, mar = ChairTerm.objects.filter(committee=w.committee, month__year=2026).order_by("month")[:3]
    la, lb, lc = (w.liaisons[w.units.index(t.unit)] for t in (jan, feb, mar))
    s1 = services.swap_request(actor=la, term_id=jan.pk, other_term_id=feb.pk)
    s2 = services.swap_request(actor=lc, term_id=mar.pk, other_term_id=jan.pk)
    results, barrier = [], threading.Barrier(2)

    def decide(actor, swap):
        try:
            barrier.wait()
            results.append(services.swap_decide(actor=actor, swap_id=swap.pk, accept=True).state)
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=a) for a in ((lb, s1), (la, s2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted([SwapState.ACCEPTED, "swap_decided"]) or sorted(results) == sorted(
        [SwapState.ACCEPTED, "swap_stale"])
    jan.refresh_from_db()
    assert jan.unit_id in (feb.unit_id, mar.unit_id) and jan.source == TermSource.SWAPPED
    assert ChairSwap.objects.filter(state=SwapState.ACCEPTED).count() == 1


def test_plan_is_fast_enough_for_a_big_alliance():
    """164 units (the city's largest alliance in the seeds) over ten years: a pure plan, no database."""
    units = [roster.Unit(k, dt.date(2020, 1, 1), (roster.Window(dt.date(2020, 1, 1), None),)) for k in range(164)]
    ms = [dt.date(2026 + y, m, 1) for y in range(10) for m in range(1, 13)]
    out = roster.plan(ms, units, history={}, kept={})
    assert [out[m] for m in ms[:164 if len(ms) >= 164 else len(ms)]] == list(range(len(ms)))[:len(ms)]
