"""民议民决: proposals, one ballot per voter (database-enforced, also under fifty simultaneous
ballots), online and paper ballots that refuse each other naming the first, secret ballots that
nothing joins to their voters, the art. 278 result computed once at the close and published, and
audited recounts."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.deliberation import services
from gongzhi.deliberation.models import (
    OwnedUnit,
    Proposal,
    ProposalState,
    Recount,
    SecretBallot,
    UnitOwner,
    VoterRoll,
)
from gongzhi.org.models import Person
from gongzhi.places.models import PlaceKind
from tests.factories import place, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def compound(world):
    """荷州小区: six owners; 陈 owns two units; the developer's two unsold units count as one owner."""
    c = place(PlaceKind.COMPOUND, "450102001004001", "荷州小区", world.beining)
    owners = {}
    for k, (name, areas) in enumerate((("陈业主", ("90.00", "60.00")), ("林业主", ("100.00",)),
                                       ("黄业主", ("80.00",)), ("周业主", ("120.50",)), ("吴业主", ("75.25",)))):
        u = user(f"owner{k}", ("resident", world.beining), first_name=name)
        person = Person.objects.create(name=name, registered_community=world.beining, user=u)
        owners[name] = u
        for j, area in enumerate(areas):
            unit = OwnedUnit.objects.create(compound=c, building=f"{k + 1}栋", unit_no=f"{j + 1}01",
                                            area=Decimal(area), place_path=c.path)
            UnitOwner.objects.create(unit=unit, person=person, representative=True)
    for j in range(2):
        OwnedUnit.objects.create(compound=c, building="9栋", unit_no=f"{j + 1}01", area=Decimal("50.00"),
                                 developer_unsold=True, place_path=c.path)
    c.owners = owners
    return c


def proposal(w, compound, *, start=None, **kw):
    now = start or timezone.now()
    params = {"place": compound.pk, "title": "加装电梯", "body": "2 栋加装电梯，费用按楼层分摊。",
              "electorate": "owners", "matter": "major", "discussion_until": now, "opens_at": now,
              "closes_at": now + dt.timedelta(days=7)}
    params.update(kw)
    return services.proposal_create(actor=w.cw, **params)


def photo() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(buf, "JPEG")
    return SimpleUploadedFile("ballot.jpg", buf.getvalue(), content_type="image/jpeg")


def close(p):
    later = p.closes_at + dt.timedelta(minutes=1)
    assert services.decide_due(now=later) == 1
    return Proposal.objects.get(pk=p.pk)


def test_owners_vote_online_and_on_paper_and_the_result_is_published_once(world, compound):
    w, o = world, compound.owners
    p = proposal(w, compound, matter="ordinary")
    services.ballot_cast(actor=o["陈业主"], proposal=p, choice="yes")
    services.ballot_cast(actor=o["林业主"], proposal=p, choice="yes")
    services.ballot_cast(actor=o["黄业主"], proposal=p, choice="no")
    row = services.ballot_paper(actor=w.cw, proposal=p, voter_key="4栋-101", choice="yes", photo=photo())
    assert row.voter_name == "周业主"  # the sheet names the flat; its representative's ballot
    assert not services.can_vote(w.cw, p) and services.can_vote(o["吴业主"], p)
    with pytest.raises(Conflict) as exc:  # online after paper: refused, naming the first
        services.ballot_cast(actor=o["周业主"], proposal=p, choice="no")
    assert exc.value.code == "already_voted" and "纸质" in str(exc.value.message)
    with pytest.raises(Conflict) as exc:  # paper after online
        chen = Person.objects.get(name="陈业主")
        services.ballot_paper(actor=w.cw, proposal=p, voter_key=f"person:{chen.pk}", choice="no", photo=photo())
    assert "线上" in str(exc.value.message)
    decided = close(p)
    r = decided.result
    # 6 owners (陈 once, the developer once) and 625.75 m²; 4 took part with 450.50 m² (≥ 2/3 both).
    assert (r["total_owners"], r["total_area"]) == (6, "625.75")
    assert (r["participating_owners"], r["participating_area"]) == (4, "450.50")
    assert (r["yes_owners"], r["yes_area"]) == (3, "370.50") and r["rule"] == "ordinary_over_half"
    assert decided.passed is True and decided.state == ProposalState.DECIDED and decided.published_at
    assert services.decide_due(now=p.closes_at + dt.timedelta(hours=1)) == 0  # computed once
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(actor=o["吴业主"], proposal=p, choice="yes")
    assert exc.value.code == "closed"


def test_a_major_matter_short_of_three_quarters_fails_and_a_recount_is_kept_apart(world, compound):
    w, o = world, compound.owners
    p = proposal(w, compound, matter="major")
    for name, choice in (("陈业主", "yes"), ("林业主", "yes"), ("黄业主", "abstain"), ("周业主", "yes"),
                         ("吴业主", "abstain")):
        services.ballot_cast(actor=o[name], proposal=p, choice=choice)
    decided = close(p)
    # 3 of 5 by head and 370.50 of 525.75 m², both under 3/4: abstentions take part and count against.
    assert decided.passed is False and decided.result["rule"] == "major_3_4"
    r = services.recount(actor=w.cw, proposal=p, reason="核对纸质选票")
    assert isinstance(r, Recount) and r.passed is False
    decided.refresh_from_db()
    assert decided.result["yes_owners"] == 3  # the published tally stands
    with pytest.raises(PermissionDenied):
        services.recount(actor=w.resident, proposal=p, reason="我要复核")


def test_quorum_fails_when_too_few_owners_take_part(world, compound):
    p = proposal(world, compound, matter="ordinary")
    services.ballot_cast(actor=compound.owners["周业主"], proposal=p, choice="yes")
    decided = close(p)
    assert decided.passed is False and decided.result["rule"] == "quorum" and decided.result["quorum_met"] is False


def test_someone_outside_the_register_cannot_vote_and_nothing_is_written(world, compound):
    p = proposal(world, compound)
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(actor=world.resident, proposal=p, choice="yes")
    assert exc.value.code == "not_in_register"
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_paper(actor=world.cw, proposal=p, voter_key="person:424242", choice="yes", photo=photo())
    assert exc.value.code == "not_in_register"
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(actor=compound.owners["陈业主"], proposal=p, choice="maybe")
    assert exc.value.code == "choice_invalid"
    assert not VoterRoll.objects.exists()


def test_voting_before_the_opening_is_refused_and_changing_needs_the_proposals_leave(world, compound):
    w, o = world, compound.owners
    later = timezone.now() + dt.timedelta(days=2)
    p = proposal(w, compound, start=later)
    with pytest.raises(ValidationFailed) as exc:
        services.ballot_cast(actor=o["陈业主"], proposal=p, choice="yes")
    assert exc.value.code == "not_open"
    q = proposal(w, compound, title="更换门禁", matter="ordinary", allow_change=True)
    services.ballot_cast(actor=o["陈业主"], proposal=q, choice="yes")
    row = services.ballot_cast(actor=o["陈业主"], proposal=q, choice="no")
    assert row.choice == "no" and VoterRoll.objects.filter(proposal=q).count() == 1
    r = proposal(w, compound, title="绿化改造", matter="ordinary")
    services.ballot_cast(actor=o["陈业主"], proposal=r, choice="yes")
    with pytest.raises(Conflict):
        services.ballot_cast(actor=o["陈业主"], proposal=r, choice="no")


def test_a_secret_ballot_keeps_who_apart_from_how_and_still_counts_by_area(world, compound):
    w, o = world, compound.owners
    p = proposal(w, compound, matter="ordinary", secret=True)
    for name, choice in (("陈业主", "yes"), ("林业主", "no"), ("黄业主", "yes"), ("周业主", "yes")):
        services.ballot_cast(actor=o[name], proposal=p, choice=choice)
    assert set(VoterRoll.objects.filter(proposal=p).values_list("choice", flat=True)) == {""}
    secret_fields = {f.name for f in SecretBallot._meta.get_fields()}
    assert secret_fields == {"id", "proposal", "choice", "area_centi"}  # no voter, no time
    decided = close(p)
    assert (decided.result["yes_owners"], decided.result["yes_area"]) == (3, "350.50")
    assert decided.passed is True
    with pytest.raises(ValidationFailed):
        proposal(w, compound, secret=True, allow_change=True)


@pytest.mark.parametrize("field,value,code", [
    ("closes_at", "2020-01-01 10:00", "times_invalid"),
    ("electorate", "everyone", "electorate_invalid"),
    ("matter", "head", "matter_invalid"),
    ("title", "", "required"),
    ("place", 999999, "place_invalid"),
])
def test_bad_proposals_are_refused(world, compound, field, value, code):
    with pytest.raises(ValidationFailed) as exc:
        proposal(world, compound, **{field: value})
    assert exc.value.code == code and not Proposal.objects.exists()


def test_owners_vote_only_in_a_compound_and_residents_by_head(world, compound):
    w = world
    with pytest.raises(ValidationFailed) as exc:
        proposal(w, w.beining, electorate="owners")
    assert exc.value.code == "owners_need_compound"
    p = proposal(w, w.beining, electorate="residents", threshold=(1, 2), title="社区春节联欢会节目")
    for name in ("陈业主", "林业主", "黄业主"):
        services.ballot_cast(actor=compound.owners[name], proposal=p, choice="yes")
    decided = close(p)
    assert decided.result["mode"] == "head" and decided.passed is True


def test_a_resident_proposes_and_discusses_and_staff_moderate(world, compound):
    w, o = world, compound.owners
    p = proposal(w, compound, start=timezone.now() + dt.timedelta(days=1))
    c = services.comment_add(actor=o["林业主"], proposal=p, text="建议分摊比例再议")
    hidden = services.comment_hide(actor=w.cw, comment=c, reason="含个人信息")
    assert hidden.hidden and hidden.hidden_reason == "含个人信息"
    with pytest.raises(PermissionDenied):
        services.comment_hide(actor=o["林业主"], comment=c, reason="x")
    mine = services.proposal_create(actor=o["黄业主"], place=compound.pk, title="增设快递柜", body="放在 3 栋旁",
                                    electorate="owners", matter="ordinary", discussion_until=timezone.now(),
                                    opens_at=timezone.now(), closes_at=timezone.now() + dt.timedelta(days=3))
    assert mine.author == o["黄业主"]
    with pytest.raises(PermissionDenied):
        services.proposal_create(actor=w.cw_x, place=compound.pk, title="x", body="x", electorate="owners",
                                 matter="ordinary", discussion_until=timezone.now(), opens_at=timezone.now(),
                                 closes_at=timezone.now() + dt.timedelta(days=3))


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_ballots_of_one_voter_leave_one(world, compound):
    p = proposal(world, compound, matter="ordinary")
    voter = compound.owners["陈业主"]
    results, barrier = [], threading.Barrier(10)

    def go():
        try:
            barrier.wait()
            for _ in range(5):
                try:
                    services.ballot_cast(actor=voter, proposal=p, choice="yes")
                    results.append("ok")
                except Conflict as exc:
                    results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 50 and results.count("ok") == 1
    assert set(results) <= {"ok", "already_voted", "busy"}
    assert VoterRoll.objects.filter(proposal=p).count() == 1


def test_the_database_refuses_to_change_a_published_result(world, compound):
    from django.db import DatabaseError, transaction

    p = proposal(world, compound, matter="ordinary")
    services.ballot_cast(actor=compound.owners["陈业主"], proposal=p, choice="yes")
    decided = close(p)
    for change in ({"passed": True}, {"result": {"forged": True}}, {"published_at": timezone.now()}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Proposal.objects.filter(pk=p.pk).update(**change)
    decided.refresh_from_db()
    assert decided.passed is False and decided.result["rule"] == "quorum"
    Proposal.objects.filter(pk=p.pk).update(title="更正错别字")  # other fields stay editable
