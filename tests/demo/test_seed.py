"""The demo seeder: counts, tiling, idempotence, codes, point location, determinism, accounts."""

import hashlib
import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from shapely.geometry import shape
from shapely.ops import unary_union

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core import geo, pii
from gongzhi.core.models import AuditEntry
from gongzhi.demo import plan, seed
from gongzhi.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from gongzhi.org.models import (
    Agreement,
    GridUnit,
    Membership,
    Organization,
    PartyMembership,
    Person,
    Post,
    PostTitle,
)
from gongzhi.org.services import agreements_expiring, validate_id_number
from gongzhi.places.models import Grid, GridLevel, Landmark, Place, PlaceKind

MODELS = (
    Place,
    Grid,
    Person,
    Organization,
    Membership,
    Agreement,
    PartyMembership,
    Post,
    GridUnit,
    RoleAssignment,
    Landmark,
)


def quiet(_line):
    pass


@pytest.fixture
def small(db):
    created = seed.seed("small", log=quiet, appeals=False)
    yield created
    geo.invalidate()  # the next test's database starts again from version 0


def counts():
    return {m.__name__: m.objects.count() for m in (*MODELS, get_user_model())}


def grid_export_hash() -> str:
    rows = list(
        Grid.objects.order_by("code").values_list(
            "code", "level", "parent__code", "community__code", "name", "geometry"
        )
    )
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@pytest.mark.django_db
def test_small_scale_seeds_two_communities_and_thirty_grids(small):
    assert Place.objects.filter(kind=PlaceKind.COMMUNITY).count() == 2
    assert set(Place.objects.filter(kind=PlaceKind.COMMUNITY).values_list("name", flat=True)) == {
        "北宁社区",
        "兴宁社区",
    }
    assert Grid.objects.count() == 30
    assert Grid.objects.filter(level=GridLevel.MICRO).count() == 24
    beining = Place.objects.get(code=plan.BEINING)
    assert beining.path == "/450100000000/450102000000/450102001000/450102001004/" and beining.depth == 3
    joint = Organization.objects.get(name="北宁社区联合党委")
    assert joint.memberships.count() == 12
    assert Agreement.objects.filter(membership__organization=joint).count() == 12
    assert 55 <= PartyMembership.objects.count() <= 70
    assert small["grids"] == 30


@pytest.mark.django_db
def test_every_demo_account_logs_in_with_its_role_and_person(small, client):
    for username, full_name, role, _scope, _home in DEMO_ACCOUNTS:
        user = get_user_model().objects.get(username=username)
        assert user.first_name == full_name
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert RoleAssignment.objects.filter(user=user, role=role).exists()
        assert user.person.name == full_name
        client.logout()


@pytest.mark.django_db
def test_gridworker_is_a_grid_worker_on_every_micro_grid_of_its_area(small):
    user = get_user_model().objects.get(username="gridworker")
    area = RoleAssignment.objects.get(user=user).grid
    assert area.level == GridLevel.AREA and area.community.code == plan.BEINING
    micros = set(area.children.values_list("id", flat=True))
    posts = set(
        Post.objects.filter(person=user.person, title=PostTitle.GRID_WORKER).values_list("grid_id", flat=True)
    )
    assert micros and posts == micros


@pytest.mark.django_db
def test_each_micro_grid_has_a_leader_and_three_or_four_workers(small):
    for g in Grid.objects.filter(level=GridLevel.MICRO):
        assert Post.objects.filter(grid=g, title=PostTitle.GRID_LEADER).count() == 1
        assert 3 <= Post.objects.filter(grid=g, title=PostTitle.GRID_WORKER).count() <= 4
    for g in Grid.objects.filter(level=GridLevel.AREA):
        assert Post.objects.filter(grid=g, title=PostTitle.FIRST_GRID_LEADER).count() == 1


@pytest.mark.django_db
def test_micro_grids_tile_each_community_without_gaps_or_overlaps(small):
    for top in Grid.objects.filter(level=GridLevel.COMMUNITY):
        community = shape(top.geometry)
        micros = [
            shape(g.geometry) for g in Grid.objects.filter(community=top.community, level=GridLevel.MICRO)
        ]
        assert abs(unary_union(micros).area - community.area) < 1e-9
        assert unary_union(micros).symmetric_difference(community).area < 1e-9
        for i, a in enumerate(micros):
            for b in micros[i + 1 :]:
                assert a.intersection(b).area == 0


@pytest.mark.django_db
def test_grid_codes_are_unique_and_prefixed_by_the_community_code(small):
    codes = list(Grid.objects.values_list("code", "community__code"))
    assert len({c for c, _ in codes}) == len(codes)
    for code, community in codes:
        assert re.fullmatch(r"\d{15}", code) and code.startswith(community)
    for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
        assert community.grid_seq == max(int(c[-3:]) for c in community.grids.values_list("code", flat=True))


@pytest.mark.django_db
def test_each_micro_grid_centre_locates_to_that_grid(small):
    idx = geo.micro_index()
    micros = Grid.objects.filter(level=GridLevel.MICRO)
    assert len(idx) == micros.count()
    for g in micros:
        c = shape(g.geometry).centroid
        assert idx.locate(c.x, c.y) == g.id
    assert idx.locate(100.0, 30.0) is None


@pytest.mark.django_db
def test_a_second_run_creates_nothing(small):
    before = counts()
    created = seed.seed("small", log=quiet, appeals=False)
    assert counts() == before
    assert not any(created.values())
    # One audit entry per run, not one per row.
    assert AuditEntry.objects.filter(action="demo.seed").count() == 2


@pytest.mark.django_db
def test_two_runs_on_empty_databases_give_the_same_grids():
    hashes = []
    for _ in range(2):
        with transaction.atomic():
            seed.seed("small", log=quiet, appeals=False)
            hashes.append(grid_export_hash())
            transaction.set_rollback(True)  # back to an empty database for the next run
        assert Grid.objects.count() == 0
    geo.invalidate()
    assert hashes[0] == hashes[1]


@pytest.mark.django_db
def test_grids_in_the_database_are_the_pure_tiling(small):
    """bench/locate.py measures the same geometry the seeder writes."""
    expected = {
        s.code: (s.level, s.geometry) for c in plan.build("small").communities for s in c.grid_specs()
    }
    stored = {g.code: (g.level, g.geometry) for g in Grid.objects.all()}
    assert stored == expected


@pytest.mark.django_db
def test_people_have_valid_unique_id_numbers_and_masked_phones(small):
    people = list(Person.objects.all())
    assert len({p.id_hash for p in people}) == len(people)
    for p in people:
        number = pii.decrypt(p.id_enc)
        assert validate_id_number(number) == number
        assert p.id_masked == pii.mask_id(number)
        phone = pii.decrypt(p.phone_enc)
        assert re.fullmatch(r"1[3-9]\d{9}", phone) and p.phone_masked == pii.mask_phone(phone)
        assert p.place_path == (p.registered_community.path if p.registered_community_id else "")


@pytest.mark.django_db
def test_organisation_paths_are_id_chains_and_some_agreements_end_soon(small):
    for org in Organization.objects.select_related("parent", "place"):
        assert org.path == (org.parent.path if org.parent_id else "/") + f"{org.pk}/"
        assert org.place_path == (org.place.path if org.place_id else "")
    committee = Organization.objects.get(name="北宁社区党委")
    assert committee.parent.name == "民生街道党工委" and committee.parent.parent.name == "兴宁区委"
    assert Organization.objects.get(name="朝阳商圈“小个专”行业党委").place.code == "450102002000"
    assert Organization.objects.get(name="万里国际汽配城党建联盟").kind == "alliance"
    assert Organization.objects.get(name="兴宁区市场监督管理局").kind == "department"
    assert (
        agreements_expiring(within_days=30).filter(membership__organization__name="北宁社区联合党委").exists()
    )
    for a in Agreement.objects.all():
        assert a.duties and a.commitments and (a.ends_on - a.starts_on).days in (1095, 1096)


@pytest.mark.django_db
def test_the_compound_and_its_nine_buildings(small):
    compound = Place.objects.get(code=plan.BEINING + "001")
    assert compound.name == "大修厂小区" and compound.kind == PlaceKind.COMPOUND
    assert list(compound.children.order_by("code").values_list("name", flat=True)) == list(plan.BUILDINGS)


@pytest.mark.django_db
def test_the_command_prints_progress_and_rejects_an_unknown_scale():
    out = StringIO()
    call_command("seed_demo", "--scale", "small", stdout=out)
    geo.invalidate()
    text = out.getvalue()
    assert "grids +30" in text and "seed_demo small" in text
    with pytest.raises(CommandError):
        call_command("seed_demo", "--scale", "galaxy", stdout=StringIO())


@pytest.mark.django_db
def test_a_larger_scale_adds_what_is_missing_and_keeps_what_is_there(small):
    beining_grids = dict(Grid.objects.filter(community__code=plan.BEINING).values_list("code", "geometry"))
    users = get_user_model().objects.count()
    seed.seed("district", log=quiet, appeals=False)
    assert Place.objects.filter(kind=PlaceKind.COMMUNITY).count() == 35
    # 2 communities keep their small layout (15 grids), 33 get the full one (26).
    assert Grid.objects.count() == 2 * 15 + 33 * 26
    assert (
        dict(Grid.objects.filter(community__code=plan.BEINING).values_list("code", "geometry"))
        == beining_grids
    )
    assert Organization.objects.get(name="北宁社区联合党委").memberships.count() == plan.BEINING_UNITS
    joint = Organization.objects.get(name="北宁社区联合党委")
    unit_members = PartyMembership.objects.filter(home_organization__member_of__organization=joint)
    assert unit_members.count() == plan.BEINING_UNIT_MEMBERS + 1  # and the demo member
    assert PartyMembership.objects.filter(home_organization__name="北宁社区党委").count() == 1034
    assert get_user_model().objects.count() == users
    before = counts()
    seed.seed("district", log=quiet, appeals=False)
    assert counts() == before


@pytest.mark.django_db
def test_seeded_rows_carry_their_pinyin_search_keys(small):
    """The pickers search `search_key`: every seeded organisation, person, place and grid has it, made
    by the same function as on save (core.search.search_key)."""
    from gongzhi.core.search import search_key
    from gongzhi.org.models import Organization, Person
    from gongzhi.places.models import Place

    for model in (Organization, Person, Place, Grid):
        assert not model.objects.filter(search_key="").exists(), model.__name__
        row = model.objects.order_by("?").first()
        assert row.search_key == search_key(row.name)


@pytest.mark.django_db
def test_landmarks_lie_in_their_community_and_search_finds_them_and_the_compound(small):
    from gongzhi.places.search import search_places

    lms = list(Landmark.objects.select_related("community"))
    assert len(lms) == 2 * plan.LANDMARKS_PER_COMMUNITY["small"]
    for lm in lms:
        assert Grid.objects.get(pk=geo.micro_index().locate(lm.lon, lm.lat)).community_id == lm.community_id
        assert lm.search_key and lm.place_path == lm.community.path
    assert search_places(q="北宁菜市场")["results"][0]["kind"] == "landmark"
    for q in ("大修厂小区", "dxcxq", "daxiuchangxiaoqu"):
        first = search_places(q=q)["results"][0]
        assert (first["label"], first["kind"]) == ("大修厂小区", "compound")
        assert Grid.objects.get(pk=geo.micro_index().locate(first["lon"], first["lat"])).community.code == plan.BEINING
