"""Seed the demo city at one of three scales, in bulk, idempotently and deterministically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.core import audit, geo, pii
from gongzhi.core.search import search_key
from gongzhi.org.models import (
    Agreement,
    GridUnit,
    Membership,
    MembershipRole,
    Organization,
    OrgKind,
    PartyMembership,
    PartyStatus,
    Person,
    Post,
    PostTitle,
)
from gongzhi.places.models import Grid, GridLevel, Landmark, Place, PlaceKind

from . import appeals, fake, plan

DEMO_PASSWORD = "gongzhi-demo"
BATCH = 2000
# Posts and grid assignments carry fixed dates, not "today", so two runs write the same rows.
GRID_TERM_START = dt.date(2024, 1, 1)
COMMITTEE_TERM_START = dt.date(2021, 12, 1)
AGE_REFERENCE = dt.date(2025, 7, 1)  # retired (60+) is judged against a fixed day, not the clock

# Staff keys within a community (see fake.person): each slot is one stable person.
_LEADER, _WORKER, _FIRST, _INSTRUCTOR, _COMMITTEE, _DEMO = 0, 1000, 2000, 3000, 4000, 9000

# username, full name, role, scope, the community the person lives in (staff key: _DEMO + position)
DEMO_ACCOUNTS = (
    ("resident", "李秀英", Role.RESIDENT, "place:beining", plan.BEINING),
    ("member", "黄志强", Role.PARTY_MEMBER, "place:beining", plan.BEINING),
    ("gridworker", "韦丽萍", Role.GRID_WORKER, "grid:beining-area-1", plan.BEINING),
    ("community", "陆海燕", Role.COMMUNITY_WORKER, "place:beining", plan.BEINING),
    ("street", "梁建华", Role.STREET_OFFICER, "place:minsheng", plan.XINGNING_COMMUNITY),
    ("department", "覃国强", Role.DEPARTMENT_HANDLER, "org:兴宁区市场监督管理局", plan.XINGNING_COMMUNITY),
    ("liaison", "蒙晓东", Role.UNIT_LIAISON, "org:beining-unit-1", plan.BEINING),
    ("admin", "农振宇", Role.DISTRICT_ADMIN, "place:xingning", plan.XINGNING_COMMUNITY),
    ("auditor", "莫文静", Role.AUDITOR, "place:xingning", plan.XINGNING_COMMUNITY),
)


def seed(scale: str, *, log: Callable[[str], None] = print, today: dt.date | None = None,
         appeals: bool = True) -> dict[str, int]:
    """Create what the scale needs and is not there yet; return the rows created per model.

    `appeals=False` leaves out the samples played through the services — appeals, volunteering and
    the three lists (tests of the registry do not need them, and they are most of a small seed's time)."""
    p = plan.build(scale)
    with transaction.atomic():
        seeder = _Seeder(p, log, today or timezone.localdate(), appeals)
        seeder.run()
    return dict(seeder.created)


def _chunks(items: list, size: int = BATCH):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _street_committee_name(street_name: str) -> str:
    return street_name + ("党工委" if street_name.endswith("街道") else "党委")


class _Seeder:
    def __init__(self, p: plan.Plan, log, today: dt.date, appeals: bool = True):
        self.plan = p
        self.with_appeals = appeals
        self.log = log
        self.today = today
        self.created: dict[str, int] = defaultdict(int)
        self.places: dict[str, tuple[int, str]] = {}  # code → (id, path)
        self.orgs: dict[tuple[int | None, str], tuple[int, str]] = {}  # (parent id, name) → (id, path)
        self.by_community: dict[str, dict] = {}  # community code → its org ids and grids
        self.grids_changed = False
        self.t0 = time.perf_counter()

    def step(self, what: str, **counts) -> None:
        detail = ", ".join(f"{k} +{v}" for k, v in counts.items())
        self.log(f"[{time.perf_counter() - self.t0:6.1f}s] {what}: {detail}")

    def run(self) -> None:
        communities = self.plan.communities
        self.log(
            f"seeding scale {self.plan.scale}: {len(communities)} communities, {self.plan.grid_count} grids planned"
        )
        self.seed_places()
        self.seed_grids()
        self.seed_landmarks()
        self.seed_organizations()
        self.seed_agreements()
        self.seed_party_members()
        self.analyze()
        self.seed_grid_staff()
        self.seed_grid_units()
        self.seed_accounts()
        if self.grids_changed:
            geo.bump_version()
        if self.with_appeals:
            self.seed_appeals()  # after the bump: their points are located on the grids just made
            self.seed_volunteering()
            self.seed_lists()  # after volunteering: its projects name the demo teams and credit hours
            self.seed_deliberation()
        audit.record(
            None,
            "demo.seed",
            object_type="demo",
            object_id=self.plan.scale,
            after={
                "scale": self.plan.scale,
                "created": dict(sorted(self.created.items())),
                "communities": len(communities),
            },
        )
        self.log(
            f"done in {time.perf_counter() - self.t0:.1f}s: "
            + (", ".join(f"{k} +{v}" for k, v in sorted(self.created.items())) or "nothing new")
        )

    def analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics after the bulk inserts.

        Without them the planner takes freshly filled tables for empty ones and picks nested loops
        that go quadratic on the next run's counting queries (minutes at district scale). ANALYZE
        may run inside a transaction and sees that transaction's own rows.
        """
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cur:
            cur.execute("ANALYZE places_place, places_grid, org_organization, org_person, org_partymembership")

    # ---- places ----

    def seed_places(self) -> None:
        wanted = list(self.plan.places)
        beining = next((c for c in self.plan.communities if c.code == plan.BEINING), None)
        if beining is not None:
            wanted += plan.compound_places(beining)
        for row in Place.objects.filter(code__in=[w.code for w in wanted]).values_list("code", "id", "path"):
            self.places[row[0]] = (row[1], row[2])
        new = 0
        for kind in PlaceKind.values:  # parents before children
            objs = []
            for w in wanted:
                if w.kind != kind or w.code in self.places:
                    continue
                parent = self.places.get(w.parent_code)
                path = (parent[1] if parent else "/") + w.code + "/"
                objs.append(
                    Place(
                        kind=w.kind,
                        code=w.code,
                        name=w.name,
                        search_key=search_key(w.name),
                        parent_id=parent[0] if parent else None,
                        path=path,
                        depth=path.count("/") - 2,
                        lon=w.lon,
                        lat=w.lat,
                    )
                )
            for chunk in _chunks(objs):
                for obj in Place.objects.bulk_create(chunk):
                    self.places[obj.code] = (obj.pk, obj.path)
            new += len(objs)
        self.created["places"] += new
        self.step("places", places=new)

    # ---- grids ----

    def seed_grids(self) -> None:
        comm_ids = {c.code: self.places[c.code][0] for c in self.plan.communities}
        gridded = set(
            Grid.objects.filter(community_id__in=comm_ids.values()).values_list("community_id", flat=True)
        )
        todo = [c for c in self.plan.communities if comm_ids[c.code] not in gridded]
        specs = {c.code: c.grid_specs() for c in todo}
        made: dict[str, tuple[int, str]] = {}
        for level in GridLevel.values:  # community grids, then areas, then micro grids
            objs = []
            for c in todo:
                place_id, place_path = self.places[c.code]
                for s in specs[c.code]:
                    if s.level != level:
                        continue
                    parent = made[s.parent_code] if s.parent_code else None
                    x0, y0, x1, y1 = s.bbox
                    objs.append(
                        Grid(
                            code=s.code,
                            name=s.name,
                            search_key=search_key(s.name),
                            level=s.level,
                            community_id=place_id,
                            parent_id=parent[0] if parent else None,
                            path=(parent[1] if parent else "/") + s.code + "/",
                            place_path=place_path,
                            geometry=s.geometry,
                            min_lon=x0,
                            min_lat=y0,
                            max_lon=x1,
                            max_lat=y1,
                        )
                    )
            for chunk in _chunks(objs):
                for g in Grid.objects.bulk_create(chunk):
                    made[g.code] = (g.pk, g.path)
        for c in todo:
            # The sequence only grows, so a code once issued is never issued again.
            last = max(s.seq for s in specs[c.code])
            Place.objects.filter(pk=comm_ids[c.code], grid_seq__lt=last).update(grid_seq=last)
        if made:
            self.grids_changed = True
        self.created["grids"] += len(made)
        kept = len(self.plan.communities) - len(todo)
        self.step(f"grids ({kept} communities already gridded, kept as they are)", grids=len(made))

    def seed_landmarks(self) -> None:
        """A few landmarks per community (plan.landmarks), so place search finds more than compounds."""
        ids = {c.code: self.places[c.code] for c in self.plan.communities}
        have = set(Landmark.objects.filter(community_id__in=[i for i, _p in ids.values()])
                   .values_list("community_id", "name"))
        objs = []
        for c in self.plan.communities:
            place_id, place_path = ids[c.code]
            for name, lon, lat in plan.landmarks(self.plan.scale, c):
                if (place_id, name) not in have:
                    objs.append(Landmark(name=name, community_id=place_id, place_path=place_path, lon=lon, lat=lat,
                                         search_key=search_key(name)))
        for chunk in _chunks(objs):
            Landmark.objects.bulk_create(chunk)
        self.created["landmarks"] += len(objs)
        self.step("landmarks", landmarks=len(objs))

    # ---- organisations ----

    def _upsert_orgs(self, rows: list[tuple[str, str, int | None, int | None, str]]) -> list[tuple[int, str]]:
        """rows: (kind, name, parent id, place id, contact). Natural key: name under parent."""
        keys = [(r[2], r[1]) for r in rows]
        missing_names = [k[1] for k in keys if k not in self.orgs]
        for chunk in _chunks(missing_names, 500):
            for oid, pid, name, path in Organization.objects.filter(name__in=chunk).values_list(
                "id", "parent_id", "name", "path"
            ):
                self.orgs[(pid, name)] = (oid, path)
        place_paths = {pid: path for pid, path in self.places.values()}
        new, seen = [], set()
        for kind, name, parent_id, place_id, contact in rows:
            if (parent_id, name) in self.orgs or (parent_id, name) in seen:
                continue
            seen.add((parent_id, name))
            new.append(
                Organization(
                    kind=kind,
                    name=name,
                    search_key=search_key(name),
                    parent_id=parent_id,
                    place_id=place_id,
                    path="",
                    place_path=place_paths.get(place_id, "") if place_id else "",
                    contact_name=contact,
                )
            )
        for chunk in _chunks(new):
            Organization.objects.bulk_create(chunk)
        # A path is built from ids, known only now: "/<parent ids…>/<id>/".
        parent_paths = {oid: path for oid, path in self.orgs.values()}
        for o in new:
            o.path = (parent_paths[o.parent_id] if o.parent_id else "/") + f"{o.pk}/"
            self.orgs[(o.parent_id, o.name)] = (o.pk, o.path)
        for chunk in _chunks(new):
            Organization.objects.bulk_update(chunk, ["path"])
        self.created["organizations"] += len(new)
        return [self.orgs[k] for k in keys]

    def org_id(self, parent_id: int | None, name: str) -> int:
        return self.orgs[(parent_id, name)][0]

    def seed_organizations(self) -> None:
        before = self.created["organizations"]
        names = {p.code: p.name for p in self.plan.places}
        # 区委 and its departments
        district_committee = {}
        for d in self.plan.districts:
            code = d + "000000"
            place_id = self.places[code][0]
            (dc,) = self._upsert_orgs([(OrgKind.DISTRICT_COMMITTEE, names[code] + "委", None, place_id, "")])
            district_committee[d] = dc[0]
            self._upsert_orgs(
                [(OrgKind.DEPARTMENT, names[code] + dept, None, place_id, "") for dept in fake.DEPARTMENTS]
            )
        # 街道党工委
        street_committee = {}
        streets = [p for p in self.plan.places if p.kind == PlaceKind.STREET]
        res = self._upsert_orgs(
            [
                (
                    OrgKind.STREET_COMMITTEE,
                    _street_committee_name(s.name),
                    district_committee[s.code[:6]],
                    self.places[s.code][0],
                    "",
                )
                for s in streets
            ]
        )
        for s, (oid, _path) in zip(streets, res, strict=True):
            street_committee[s.code] = oid
        # 社区党委 and 社区联合党委
        rows = []
        for c in self.plan.communities:
            place_id, parent = self.places[c.code][0], street_committee[c.street]
            rows.append((OrgKind.COMMUNITY_COMMITTEE, c.name + "党委", parent, place_id, ""))
            rows.append((OrgKind.JOINT_COMMITTEE, c.name + "联合党委", parent, place_id, ""))
        res = self._upsert_orgs(rows)
        for i, c in enumerate(self.plan.communities):
            self.by_community[c.code] = {"committee": res[2 * i][0], "joint": res[2 * i + 1][0]}
        # Member units: each community takes the first N of its fixed catalogue.
        rows, owners = [], []
        for c in self.plan.communities:
            real = fake.BEINING_REAL if c.code == plan.BEINING else ()
            rng = random.Random(fake.SEED + int(c.code) * 7)
            catalogue = fake.unit_catalogue(c.code, c.stem, real=real)[: c.units]
            for name, kind in catalogue:
                rows.append((kind, name, None, self.places[c.code][0], fake.short_name(rng)))
                owners.append(c.code)
        res = self._upsert_orgs(rows)
        for (kind, *_rest), (oid, _path), code in zip(rows, res, owners, strict=True):
            self.by_community[code].setdefault("units", []).append((oid, kind))
        # 朝阳商圈 industry committee, the 汽配 alliance and its units
        xn_place = self.places[plan.XINGNING + "000000"][0]
        xn_dc = district_committee[plan.XINGNING]
        cy_place = self.places[plan.CHAOYANG][0]
        self._upsert_orgs(
            [
                (
                    OrgKind.INDUSTRY_COMMITTEE,
                    fake.CHAOYANG_INDUSTRY,
                    street_committee[plan.CHAOYANG],
                    cy_place,
                    "",
                )
            ]
        )
        self._upsert_orgs(
            [(OrgKind.ALLIANCE, fake.ALLIANCE_NAME, xn_dc, xn_place, "")]
            + [(OrgKind.INDUSTRY_COMMITTEE, n, xn_dc, xn_place, "") for n in fake.ALLIANCE_INDUSTRY]
        )
        small = self.plan.scale == "small"
        rng = random.Random(fake.SEED + 11)
        self._upsert_orgs([(k, n, None, xn_place, fake.short_name(rng)) for n, k in fake.ALLIANCE_GOVERNMENT])
        self._upsert_orgs(
            [
                (OrgKind.PRIVATE_ENTERPRISE, n, None, xn_place, fake.short_name(rng))
                for n in fake.alliance_enterprises()[: 2 if small else 9]
            ]
        )
        self._upsert_orgs(
            [
                (OrgKind.INDIVIDUAL_BUSINESS, n, None, xn_place, fake.short_name(rng))
                for n in fake.alliance_businesses()[: 4 if small else 36]
            ]
        )
        self._upsert_orgs(
            [
                (OrgKind.INDIVIDUAL_BUSINESS, n, None, cy_place, fake.short_name(rng))
                for n in fake.chaoyang_businesses()[: 4 if small else 12]
            ]
        )
        self.street_committee = street_committee
        self.district_committee = district_committee
        self.step("organisations", organizations=self.created["organizations"] - before)

    # ---- memberships and agreements ----

    def seed_agreements(self) -> None:
        # (organization id, member id, role, agreement number)
        wanted: list[tuple[int, int, str, str]] = []
        for c in self.plan.communities:
            units = self.by_community[c.code]["units"]
            seats = 0
            for k, (oid, kind) in enumerate(units):
                # The police station, school and enterprise heads sit as part-time members (兼职委员).
                seat = seats < 5 and kind in (
                    OrgKind.GOVERNMENT,
                    OrgKind.INSTITUTION,
                    OrgKind.STATE_ENTERPRISE,
                )
                seats += seat
                role = MembershipRole.SEAT_HOLDER if seat else MembershipRole.MEMBER_UNIT
                wanted.append((self.by_community[c.code]["joint"], oid, role, f"GJXY-{c.code}-{k + 1:03d}"))
        small = self.plan.scale == "small"
        xn_dc = self.district_committee[plan.XINGNING]
        alliance = self.org_id(xn_dc, fake.ALLIANCE_NAME)
        members = [
            self.by_community[code]["committee"]
            for code in fake.ALLIANCE_COMMUNITIES
            if code in self.by_community
        ]
        members += [self.org_id(None, n) for n, _k in fake.ALLIANCE_GOVERNMENT]
        members += [self.org_id(None, n) for n in fake.ALLIANCE_DEPARTMENTS]
        members += [self.org_id(xn_dc, n) for n in fake.ALLIANCE_INDUSTRY]
        members += [self.org_id(None, n) for n in fake.alliance_enterprises()[: 2 if small else 9]]
        members += [self.org_id(None, n) for n in fake.alliance_businesses()[: 4 if small else 36]]
        # Charter numbers follow the member's identity, not its position, so scales agree.
        wanted += [(alliance, m, MembershipRole.MEMBER_UNIT, f"LMZC-WLQP-{m:06d}") for m in members]
        industry = self.org_id(self.street_committee[plan.CHAOYANG], fake.CHAOYANG_INDUSTRY)
        wanted += [
            (industry, self.org_id(None, n), MembershipRole.MEMBER_UNIT, f"HYXY-CYSQ-{k + 1:03d}")
            for k, n in enumerate(fake.chaoyang_businesses()[: 4 if small else 12])
        ]

        org_ids = sorted({w[0] for w in wanted})
        memberships = {
            (o, m): mid
            for mid, o, m in Membership.objects.filter(organization_id__in=org_ids).values_list(
                "id", "organization_id", "member_id"
            )
        }
        numbers = set()
        for chunk in _chunks([w[3] for w in wanted], 500):
            numbers.update(Agreement.objects.filter(number__in=chunk).values_list("number", flat=True))
        terms = {}
        new_ms = []
        for k, (o, m, role, number) in enumerate(wanted):
            if number in numbers:
                continue
            rng = random.Random(number)  # str seeds are hashed with SHA-512: stable across runs
            terms[number] = fake.agreement_terms(
                rng, int(number[-3:]) if number[-3:].isdigit() else k, self.today
            )
            if (o, m) not in memberships:
                memberships[(o, m)] = None
                new_ms.append(
                    Membership(organization_id=o, member_id=m, role=role, joined_on=terms[number][0])
                )
        for chunk in _chunks(new_ms):
            for ms in Membership.objects.bulk_create(chunk):
                memberships[(ms.organization_id, ms.member_id)] = ms.pk
        new_ag = []
        for o, m, _role, number in wanted:
            if number in numbers:
                continue
            starts, ends, duties, commitments = terms[number]
            new_ag.append(
                Agreement(
                    membership_id=memberships[(o, m)],
                    number=number,
                    starts_on=starts,
                    ends_on=ends,
                    duties=duties,
                    commitments=commitments,
                )
            )
        for chunk in _chunks(new_ag):
            Agreement.objects.bulk_create(chunk)
        self.created["memberships"] += len(new_ms)
        self.created["agreements"] += len(new_ag)
        self.step("memberships and agreements", memberships=len(new_ms), agreements=len(new_ag))

    # ---- people ----

    def _new_person(self, fp: fake.FakePerson, community_id: int | None, place_path: str) -> Person:
        return Person(
            name=fp.name,
            search_key=search_key(fp.name),
            gender=fp.gender,
            phone_enc=pii.encrypt(fp.phone),
            phone_hash=pii.lookup_hash(fp.phone),
            phone_masked=pii.mask_phone(fp.phone),
            id_enc=pii.encrypt(fp.id_number),
            id_hash=pii.lookup_hash(fp.id_number),
            id_masked=pii.mask_id(fp.id_number),
            registered_community_id=community_id,
            place_path=place_path,
        )

    def seed_party_members(self) -> None:
        comm_ids = [self.places[c.code][0] for c in self.plan.communities]
        have = dict(
            PartyMembership.objects.filter(person__registered_community_id__in=comm_ids)
            .values_list("person__registered_community_id")
            .annotate(n=Count("id"))
        )
        persons: list[Person] = []
        party: list[tuple[int, str, dt.date]] = []  # per person: home org id, status, joined on
        created = 0

        def flush():
            nonlocal created
            for pc, mc in zip(_chunks(persons), _chunks(party), strict=True):
                Person.objects.bulk_create(pc)
                PartyMembership.objects.bulk_create(
                    [
                        PartyMembership(person_id=p.pk, home_organization_id=h, status=s, joined_on=j)
                        for p, (h, s, j) in zip(pc, mc, strict=True)
                    ]
                )
            created += len(persons)
            persons.clear()
            party.clear()

        for c in self.plan.communities:
            place_id, place_path = self.places[c.code]
            if have.get(place_id, 0) >= c.members:
                continue
            known = set(
                Person.objects.filter(registered_community_id=place_id).values_list("id_hash", flat=True)
            )
            units = [oid for oid, _kind in self.by_community[c.code]["units"]]
            committee = self.by_community[c.code]["committee"]
            for k in range(c.members):
                fp = fake.person(c.district, c.index, k)
                h = pii.lookup_hash(fp.id_number)
                if h in known:
                    continue
                age = (AGE_REFERENCE - fp.birth).days // 365
                if age >= 60:
                    status = PartyStatus.RETIRED
                elif (k * 37 + c.index) % 100 < 8:
                    status = PartyStatus.FLOATING
                else:
                    status = PartyStatus.IN_SERVICE
                # One member in ten has their file with the community committee, the others with a
                # member unit, dealt round the units in turn (plan.BEINING_MEMBERS relies on this).
                if k % 10 == 0 or not units:
                    home = committee
                else:
                    home = units[(k - k // 10 - 1) % len(units)]
                joined = min(
                    fp.birth.replace(month=7, day=1) + dt.timedelta(days=365 * (19 + k % 17)), AGE_REFERENCE
                )
                persons.append(self._new_person(fp, place_id, place_path))
                party.append((home, status, joined))
                if len(persons) >= 10 * BATCH:
                    flush()
        flush()
        self.created["people"] += created
        self.created["party_members"] += created
        self.step("party members", people=created)

    def _staff(
        self, c: plan.Community, keys: list[int], names: dict[int, str] | None = None
    ) -> dict[int, int]:
        """Staff key → person id in community c, creating the missing people."""
        place_id, place_path = self.places[c.code]
        fps = {k: fake.person(c.district, c.index, k, staff=True) for k in keys}
        for k, name in (names or {}).items():
            fps[k] = dataclasses.replace(fps[k], name=name)
        hashes = {k: pii.lookup_hash(fp.id_number) for k, fp in fps.items()}
        found = dict(Person.objects.filter(id_hash__in=list(hashes.values())).values_list("id_hash", "id"))
        new = [self._new_person(fps[k], place_id, place_path) for k in keys if hashes[k] not in found]
        for chunk in _chunks(new):
            Person.objects.bulk_create(chunk)
        found.update({p.id_hash: p.pk for p in new})
        self.created["people"] += len(new)
        return {k: found[hashes[k]] for k in keys}

    def _ensure_posts(self, rows: list[tuple[int, str, str, int, dt.date]]) -> int:
        """rows: (person id, title, scope field, scope id, starts on); natural key without the date."""
        people = sorted({r[0] for r in rows})
        have = set()
        for chunk in _chunks(people, 500):
            for pid, title, g, o, p in Post.objects.filter(person_id__in=chunk).values_list(
                "person_id", "title", "grid_id", "organization_id", "place_id"
            ):
                have.add(
                    (pid, title, "grid", g)
                    if g
                    else (pid, title, "organization", o)
                    if o
                    else (pid, title, "place", p)
                )
        new = []
        for pid, title, field, sid, starts in rows:
            if (pid, title, field, sid) in have:
                continue
            have.add((pid, title, field, sid))
            new.append(Post(person_id=pid, title=title, starts_on=starts, **{field + "_id": sid}))
        for chunk in _chunks(new):
            Post.objects.bulk_create(chunk)
        self.created["posts"] += len(new)
        return len(new)

    def _load_grids(self) -> None:
        ids = {self.places[c.code][0]: c.code for c in self.plan.communities}
        for info in self.by_community.values():
            info["areas"], info["micros"] = [], defaultdict(list)
        rows = (
            Grid.objects.filter(community_id__in=ids, retired_at__isnull=True)
            .order_by("code")
            .values_list("id", "level", "parent_id", "community_id")
        )
        for gid, level, parent_id, community_id in rows:
            info = self.by_community[ids[community_id]]
            if level == GridLevel.AREA:
                info["areas"].append(gid)
            elif level == GridLevel.MICRO:
                info["micros"][parent_id].append(gid)

    def seed_grid_staff(self) -> None:
        """Per micro grid a leader and the area's 3–4 grid workers; per area a first grid leader and,
        on every other area, a party-building instructor; the joint committee's office bearers."""
        self._load_grids()
        created = 0
        for batch in _chunks(self.plan.communities, 40):
            rows = []
            for c in batch:
                info = self.by_community[c.code]
                keys = [_COMMITTEE + i for i in range(6)]
                micro_ord = 0
                plan_rows = []
                for a, area in enumerate(info["areas"]):
                    team = [_WORKER + a * 10 + w for w in range(3 + a % 2)]
                    keys += team + [_FIRST + a]
                    plan_rows.append((PostTitle.FIRST_GRID_LEADER, "grid", area, _FIRST + a))
                    if a % 2 == 0:
                        keys.append(_INSTRUCTOR + a)
                        plan_rows.append((PostTitle.INSTRUCTOR, "grid", area, _INSTRUCTOR + a))
                    for micro in info["micros"][area]:
                        keys.append(_LEADER + micro_ord)
                        plan_rows.append((PostTitle.GRID_LEADER, "grid", micro, _LEADER + micro_ord))
                        plan_rows += [(PostTitle.GRID_WORKER, "grid", micro, w) for w in team]
                        micro_ord += 1
                joint, committee = info["joint"], info["committee"]
                plan_rows += [
                    (PostTitle.SECRETARY, "organization", committee, _COMMITTEE),
                    (PostTitle.SECRETARY, "organization", joint, _COMMITTEE),
                    (PostTitle.DEPUTY_SECRETARY, "organization", joint, _COMMITTEE + 1),
                    (PostTitle.DEPUTY_SECRETARY, "organization", joint, _COMMITTEE + 2),
                ]
                plan_rows += [
                    (PostTitle.COMMITTEE_MEMBER, "organization", joint, _COMMITTEE + i) for i in (3, 4, 5)
                ]
                people = self._staff(c, sorted(set(keys)))
                for title, field, sid, key in plan_rows:
                    starts = COMMITTEE_TERM_START if field == "organization" else GRID_TERM_START
                    rows.append((people[key], title, field, sid, starts))
            created += self._ensure_posts(rows)
        self.step("grid staff and office bearers", posts=created)

    def seed_grid_units(self) -> None:
        """包保包联: each member unit looks after one micro grid of its community, one in five two."""
        wanted = []
        for c in self.plan.communities:
            info = self.by_community[c.code]
            micros = [m for area in info["areas"] for m in info["micros"][area]]
            if not micros:
                continue
            for k, (oid, _kind) in enumerate(info["units"]):
                wanted.append((micros[k % len(micros)], oid))
                if k % 5 == 0 and len(micros) > 1:
                    wanted.append((micros[(k + len(micros) // 2) % len(micros)], oid))
        grids = sorted({g for g, _o in wanted})
        have = set()
        for chunk in _chunks(grids, 500):
            have.update(GridUnit.objects.filter(grid_id__in=chunk).values_list("grid_id", "organization_id"))
        new = [
            GridUnit(grid_id=g, organization_id=o, since=GRID_TERM_START)
            for g, o in dict.fromkeys(wanted)
            if (g, o) not in have
        ]
        for chunk in _chunks(new):
            GridUnit.objects.bulk_create(chunk)
        self.created["grid_units"] += len(new)
        self.step("member units on grids", grid_units=len(new))

    # ---- sample appeals ----

    def seed_appeals(self) -> None:
        """Appeals in every state for the demo accounts, through the services (demo/appeals.py)."""
        made = appeals.seed_appeals(self.plan.scale)
        self.created["appeals"] += made
        self.step("sample appeals, through the services", appeals=made)

    def seed_volunteering(self) -> None:
        """Teams, dual reports, activities and attendance in 北宁社区, through the services."""
        from gongzhi.demo.volunteering import seed_volunteering

        made = seed_volunteering(today=self.today, log=self.log)
        for k, v in made.items():
            self.created[k] += v
        self.step("volunteering, through the services", **made)

    def seed_lists(self) -> None:
        """Needs, micro-wishes, resources and projects in 北宁社区, through the services."""
        from gongzhi.demo.lists import seed_lists

        made = seed_lists(today=self.today, log=self.log)
        for k, v in made.items():
            self.created[k] += v
        self.step("three lists, through the services", **made)

    def seed_deliberation(self) -> None:
        """北宁社区联合党委's rotating chair: this year published, next year a draft, through the services."""
        from gongzhi.demo.deliberation import seed_deliberation

        made = seed_deliberation(today=self.today, log=self.log)
        for k, v in made.items():
            self.created[k] += v
        self.step("deliberation, through the services", **made)

    # ---- demo accounts ----

    def seed_accounts(self) -> None:
        User = get_user_model()
        comm = {c.code: c for c in self.plan.communities}
        beining = self.by_community[plan.BEINING]
        first_area = beining["areas"][0]
        first_unit = beining["units"][0][0]
        scopes = {
            "place:beining": ("place", self.places[plan.BEINING][0]),
            "place:minsheng": ("place", self.places[plan.MINSHENG][0]),
            "place:xingning": ("place", self.places[plan.XINGNING + "000000"][0]),
            "grid:beining-area-1": ("grid", first_area),
            "org:兴宁区市场监督管理局": ("organization", self.org_id(None, "兴宁区市场监督管理局")),
            "org:beining-unit-1": ("organization", first_unit),
        }
        existing = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS])}
        encoded = None
        users_new = 0
        posts = []
        for i, (username, full_name, role, scope, home) in enumerate(DEMO_ACCOUNTS):
            user = existing.get(username)
            if user is None:
                # One PBKDF2 hash for all nine: they share the published demo password anyway.
                encoded = encoded or make_password(DEMO_PASSWORD)
                user = User.objects.create(username=username, first_name=full_name, password=encoded)
                users_new += 1
            c = comm[home]
            person_id = self._staff(c, [_DEMO + i], {_DEMO + i: full_name})[_DEMO + i]
            if not Person.objects.filter(user=user).exists():
                Person.objects.filter(pk=person_id, user__isnull=True).update(user=user)
            field, sid = scopes[scope]
            _ra, made = RoleAssignment.objects.get_or_create(user=user, role=role, **{field + "_id": sid})
            self.created["role_assignments"] += made
            if username == "member" and not PartyMembership.objects.filter(person_id=person_id).exists():
                PartyMembership.objects.create(
                    person_id=person_id,
                    home_organization_id=first_unit,
                    status=PartyStatus.IN_SERVICE,
                    joined_on=dt.date(2012, 7, 1),
                )
                self.created["party_members"] += 1
            if username == "gridworker":
                posts += [
                    (person_id, PostTitle.GRID_WORKER, "grid", m, GRID_TERM_START)
                    for m in beining["micros"][first_area]
                ]
            elif username == "liaison":
                posts.append((person_id, PostTitle.LIAISON, "organization", first_unit, COMMITTEE_TERM_START))
            elif username == "community":
                posts.append(
                    (
                        person_id,
                        PostTitle.COMMITTEE_MEMBER,
                        "organization",
                        beining["committee"],
                        COMMITTEE_TERM_START,
                    )
                )
        self._ensure_posts(posts)
        self.created["users"] += users_new
        self.step("demo accounts (password gongzhi-demo)", users=users_new)
