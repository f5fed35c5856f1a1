"""Deliberation at the seeds' scale: the rotating chair, the art. 278 tally, the iCalendar feed.

Run:
  .venv/bin/python bench/deliberation.py                                   # a scratch SQLite database
  .venv/bin/python bench/deliberation.py --database-url postgres://gongzhi:gongzhi@127.0.0.1:5432/gongzhi_bench_delib
The database is migrated and filled with what the bench needs (a committee of 164 member units, each
backed by an agreement); each run makes its own committee, so reruns never collide.

A. Roster: 164 member units (the largest alliance of seed 000 has about that many) over 10 years.
   The pure plan (no database), then `roster_generate` year by year through the service (locks, audit,
   writes), and the fairness check: any 164 consecutive months see each unit exactly once.
B. Tally: a compound of 5,000 owners (6,000 units, some owners with two, the developer's unsold units as
   one owner), 4,200 ballots; art. 278 in exact fractions. Target < 100 ms. B2: the same compound stored
   (register, ballots) and tallied through the service as the close does.
C. ICS: one community's feed with a year of sessions (逢四说事 36 a year, a weekly 老友议事会 52, holiday
   exceptions, 12 one-off meetings), served by the feed view through Django's test client. Target < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GONGZHI = Path(sys.executable).with_name("gongzhi")
UNITS, YEARS, FIRST_YEAR = 164, 10, 2027
TAG = "BENCH-DELIB"


def fair(seq: list, n: int) -> bool:
    """Once before twice: in any n consecutive months (n units) no unit chairs twice, and a full window
    of n months sees every one of the n units. A shorter plan is one window."""
    width = min(n, len(seq))
    return bool(seq) and all(len(set(seq[k:k + width])) == width for k in range(len(seq) - width + 1))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def roster_pure() -> None:
    from gongzhi.deliberation import roster

    units = [roster.Unit(k, dt.date(2020, 1, 1), (roster.Window(dt.date(2020, 1, 1), None),)) for k in range(UNITS)]
    months = [dt.date(FIRST_YEAR + y, m, 1) for y in range(YEARS) for m in range(1, 13)]
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = roster.plan(months, units, history={}, kept={})
        runs.append(time.perf_counter() - t0)
    seq = [out[m] for m in months]
    print(f"A1 roster, pure plan: {UNITS} units × {YEARS} years ({len(months)} months): "
          f"median {_ms(statistics.median(runs))} of 5 runs; once before twice: {fair(seq, UNITS)}")


def _setup_committee():
    from gongzhi.org.models import Agreement, Membership, Organization
    from gongzhi.places.models import Place

    place = Place.objects.order_by("id").first()
    committee = Organization.objects.create(kind="alliance", name=f"{TAG} 联盟 {time.time_ns()}", place=place)
    units = Organization.objects.bulk_create([
        Organization(kind="private_enterprise", name=f"{committee.name} 成员 {k:03d}", path=f"/x{k}/",
                     place=place, place_path=place.path if place else "") for k in range(UNITS)])
    for u in units:  # paths are id chains: write them now the ids are known
        u.path = f"/{u.pk}/"
    Organization.objects.bulk_update(units, ["path"])
    ms = Membership.objects.bulk_create([Membership(organization=committee, member=u, joined_on=dt.date(2020, 1, 1))
                                         for u in units])
    Agreement.objects.bulk_create([Agreement(membership=m, number=f"{TAG}-{committee.pk}-{k:03d}",
                                             starts_on=dt.date(2020, 1, 1), ends_on=dt.date(2040, 12, 31))
                                   for k, m in enumerate(ms)])
    return committee


def roster_service() -> None:
    from gongzhi.core.actors import CommandLineActor
    from gongzhi.deliberation import services
    from gongzhi.deliberation.models import ChairTerm

    committee = _setup_committee()
    actor = CommandLineActor()
    per_year = []
    t0 = time.perf_counter()
    for y in range(YEARS):
        t = time.perf_counter()
        services.roster_generate(actor=actor, committee=committee, year=FIRST_YEAR + y,
                                 today=dt.date(FIRST_YEAR, 1, 1))
        per_year.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    seq = list(ChairTerm.objects.filter(committee=committee).order_by("month").values_list("unit_id", flat=True))
    ok = len(seq) == 12 * YEARS and fair(seq, UNITS)
    t = time.perf_counter()
    again = services.roster_generate(actor=actor, committee=committee, year=FIRST_YEAR + YEARS - 1,
                                     today=dt.date(FIRST_YEAR, 1, 1))
    rerun = time.perf_counter() - t
    print(f"A2 roster through the service: {YEARS} years of {UNITS} units in {_ms(total)} "
          f"(per year median {_ms(statistics.median(per_year))}, max {_ms(max(per_year))}); "
          f"re-planning a planned year {_ms(rerun)} ({len(again.changed)} changes); once before twice across years: {ok}")


def tally() -> None:
    import random
    from decimal import Decimal

    from gongzhi.deliberation import tally as t

    rnd = random.Random(278)
    rows = []
    for u in range(6000):
        # 4,999 owners of one unit each (some of whom own a second below), the developer's 100 unsold units.
        owner = (f"owner-{u}" if u < 4999 else "developer" if u % 10 == 0 else f"owner-{rnd.randrange(4999)}")
        rows.append((f"unit-{u}", owner, Decimal(rnd.randrange(4500, 14000)) / 100))
    t0 = time.perf_counter()
    owners = t.owners_from_register(rows)
    register = time.perf_counter() - t0
    voters = list(owners)
    rnd.shuffle(voters)
    ballots = {v: rnd.choice((t.YES, t.YES, t.YES, t.NO, t.ABSTAIN)) for v in voters[:4200]}
    runs = []
    for _ in range(20):
        t0 = time.perf_counter()
        result = t.tally_art278(owners, ballots, t.MAJOR)
        runs.append(time.perf_counter() - t0)
    print(f"B  tally: {len(owners)} owners ({len(rows)} units), {len(ballots)} ballots, major matter: median "
          f"{_ms(statistics.median(runs))}, max {_ms(max(runs))} (target < 100 ms); register of {len(rows)} rows read in "
          f"{_ms(register)}; {result.rule}: {'passed' if result.passed else 'failed'}")


def tally_service() -> None:
    """B2: the same size through the database: register rows read and the art. 278 tally computed from
    stored ballots, as the close does (services.votes.compute)."""
    import random
    from decimal import Decimal

    from django.utils import timezone

    from gongzhi.deliberation.models import OwnedUnit, Proposal, UnitOwner, VoterRoll
    from gongzhi.deliberation.services import votes
    from gongzhi.org.models import Person
    from gongzhi.places.models import Place, PlaceKind

    rnd = random.Random(278)
    parent = Place.objects.filter(kind=PlaceKind.COMMUNITY).first() or Place.objects.first()
    compound = Place.objects.create(kind=PlaceKind.COMPOUND, code=f"8{time.time_ns() % 10**11:011d}",
                                    name=f"{TAG} 小区", parent=parent)
    people = Person.objects.bulk_create([Person(name=f"业主{k}") for k in range(4999)])
    units = OwnedUnit.objects.bulk_create([
        OwnedUnit(compound=compound, building=f"{u // 100 + 1}栋", unit_no=f"{u % 100:03d}",
                  area=Decimal(rnd.randrange(4500, 14000)) / 100, developer_unsold=(u >= 4999 and u % 10 == 0),
                  place_path=compound.path) for u in range(6000)])
    UnitOwner.objects.bulk_create([
        UnitOwner(unit=unit, person=people[u] if u < 4999 else people[rnd.randrange(4999)], representative=True)
        for u, unit in enumerate(units) if not unit.developer_unsold])
    now = timezone.now()
    p = Proposal.objects.create(place=compound, title="bench", body="bench", electorate="owners", matter="major",
                                discussion_until=now, opens_at=now, closes_at=now + dt.timedelta(days=1),
                                place_path=compound.path)
    VoterRoll.objects.bulk_create([
        VoterRoll(proposal=p, voter_key=f"person:{person.pk}", voter_name=person.name, way="online",
                  choice=rnd.choice(("yes", "yes", "yes", "no", "abstain")), cast_at=now)
        for person in people[:4200]])
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = votes.compute(p)
        runs.append(time.perf_counter() - t0)
    print(f"B2 tally through the database: {result.total_owners} owners, {result.participating_owners} ballots: "
          f"median {_ms(statistics.median(runs))} of 5 (target < 100 ms); {result.rule}: "
          f"{'passed' if result.passed else 'failed'}")


def ics_feed() -> None:
    from django.test import Client

    from gongzhi.core.actors import CommandLineActor
    from gongzhi.deliberation import recurrence, services
    from gongzhi.places.models import Place, PlaceKind

    actor = CommandLineActor()
    parent = Place.objects.filter(kind=PlaceKind.STREET).first()
    community = Place.objects.create(kind=PlaceKind.COMMUNITY, code=f"9{time.time_ns() % 10**11:011d}",
                                     name=f"{TAG} 社区", parent=parent)
    year = FIRST_YEAR
    feng_si = services.series_create(actor=actor, kind="deliberation", form="feng_si", title="逢四说事",
                                     rule=recurrence.PRESETS["feng_si"], dtstart=f"{year}-01-04 19:30",
                                     duration_minutes=90, location="议事厅", place=community)
    services.series_create(actor=actor, kind="deliberation", form="old_friends", title="老友议事会",
                           rule=recurrence.PRESETS["weekly_thu"], dtstart=f"{year}-01-07 09:30", duration_minutes=60,
                           location="长者饭堂", place=community)
    for day in ("04-04", "05-04", "10-04"):
        services.series_exception(actor=actor, series=feng_si, original_start=f"{year}-{day} 19:30", cancel=True,
                                  reason="节假日")
    services.series_exception(actor=actor, series=feng_si, original_start=f"{year}-10-14 19:30", cancel=False,
                              new_start=f"{year}-10-15 19:30")
    for m in range(1, 13):
        services.meeting_create(actor=actor, kind="deliberation", form="bench", title=f"{m} 月板凳议事会",
                                starts_at=f"{year}-{m:02d}-10 15:00", ends_at=f"{year}-{m:02d}-10 16:00",
                                place=community)
    client = Client()
    url = f"/deliberation/calendar/community/{community.pk}.ics"
    for _ in range(5):
        client.get(url)
    runs = []
    for _ in range(50):
        t0 = time.perf_counter()
        r = client.get(url)
        runs.append(time.perf_counter() - t0)
    assert r.status_code == 200
    print(f"C  ICS feed of a community (2 series, 4 exceptions, 12 one-off meetings; {len(r.content):,} bytes): "
          f"median {_ms(statistics.median(runs))}, max {_ms(max(runs))} of 50 (target < 50 ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", help="default: a scratch SQLite file, removed afterwards")
    args = ap.parse_args()
    scratch = None
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        scratch = tempfile.NamedTemporaryFile(prefix="gongzhi-bench-delib-", suffix=".sqlite3", delete=False)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    try:
        subprocess.run([str(GONGZHI), "migrate", "--noinput", "-v0"], check=True, env=os.environ)
        import django

        django.setup()
        from django.db import connection

        print(f"database: {connection.vendor}")
        roster_pure()
        roster_service()
        tally()
        tally_service()
        ics_feed()
    finally:
        if scratch is not None:
            Path(scratch.name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
