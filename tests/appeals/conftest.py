"""A small city for the appeal tests: two communities with grids, their staff, and residents.

北宁社区 (x 108.32–108.33) has a 2×2 tiling of micro grids; micros[0] has two grid workers with
linked accounts (王网格员 first: the on-duty first responder) and a grid leader. 兴宁社区 sits to the
east (x 108.34–108.35) with its own grid worker, who is out of scope for 北宁's appeals.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import call_command

from gongzhi.accounts.models import ApiToken
from gongzhi.appeals import services
from gongzhi.org.services import person_create, post_assign
from tests.factories import grid_tree, user
from tests.photos import tiny_image

# A point inside 北宁's micros[0], one inside 兴宁's first micro grid, and one outside every grid.
IN_GRID = (108.3225, 22.8225)
IN_XINGNING = (108.3425, 22.8225)
OUTSIDE = (108.50, 22.50)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _staff(cw, username, full_name, community, title, grid, roles):
    u = user(username, *roles, first_name=full_name)
    person = person_create(actor=cw, name=full_name, registered_community=community)
    person.user = u
    person.save()
    post_assign(actor=cw, person=person, title=title, grid=grid, starts_on="2020-01-01")
    return u


@pytest.fixture
def city(tree):
    call_command("seed_categories", verbosity=0)
    top, micros = grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    xtop, xmicros = grid_tree(tree["xingning"], 108.34, 22.82, size=0.01)
    cw = user("cw", ("community_worker", tree["beining"]), first_name="李社工")
    cw_x = user("cw_x", ("community_worker", tree["xingning"]), first_name="赵社工")
    so = user("so", ("street_officer", tree["street"]), first_name="陈干部")
    gw1 = _staff(cw, "gw1", "王网格员", tree["beining"], "grid_worker", micros[0], [("grid_worker", micros[0])])
    gw2 = _staff(cw, "gw2", "刘网格员", tree["beining"], "grid_worker", micros[0], [("grid_worker", micros[0])])
    leader = _staff(cw, "leader", "黄网格长", tree["beining"], "grid_leader", micros[0], [("grid_worker", top)])
    gw_x = _staff(cw_x, "gw_x", "周网格员", tree["xingning"], "grid_worker", xmicros[0],
                  [("grid_worker", xmicros[0])])
    return SimpleNamespace(
        tree=tree, top=top, micros=micros, xmicros=xmicros, cw=cw, cw_x=cw_x, so=so, gw1=gw1, gw2=gw2,
        leader=leader, gw_x=gw_x,
        jumin=user("jumin", ("resident", tree["beining"]), first_name="张居民"),
        linju=user("linju", ("resident", tree["beining"]), first_name="孙邻居"),
        admin=user("admin", ("district_admin", tree["district"])),
        auditor=user("auditor", ("auditor", tree["district"])),
    )


def submit(actor, point=IN_GRID, **kw):
    params = {"category": "noise", "text": "楼下烧烤店每晚营业到凌晨两点，噪声很大。", "title": "夜间噪声扰民",
              "lon": point[0], "lat": point[1]}
    params.update(kw)
    return services.appeal_submit(actor=actor, **params)


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


# Small real images of each kind (uploads are decoded and re-encoded), and something that only
# claims to be an image.
JPEG = tiny_image("JPEG")
PNG = tiny_image("PNG")
WEBP = tiny_image("WEBP")
NOT_AN_IMAGE = b"<script>alert(1)</script> pretending to be photo.jpg"


# ---- the whistle: departments and member units, their handlers, and an appeal at street level ----

@pytest.fixture
def depts(city):
    """兴宁区's departments (城管局 with a 执法中队 under it, 市监局), a member unit in 北宁社区 and a
    department of another district (青秀区), each with a handler; plus a community committee (not summonable)."""
    from gongzhi.org.models import Organization, OrgKind
    from gongzhi.places.models import PlaceKind
    from tests.factories import place

    tree = city.tree
    qingxiu = place(PlaceKind.DISTRICT, "450103000000", "青秀区", tree["city"])
    cg = Organization.objects.create(kind=OrgKind.DEPARTMENT, name="兴宁区城市管理局", place=tree["district"])
    squad = Organization.objects.create(kind=OrgKind.DEPARTMENT, name="城管执法中队", parent=cg,
                                        place=tree["district"])
    sj = Organization.objects.create(kind=OrgKind.DEPARTMENT, name="兴宁区市场监督管理局", place=tree["district"])
    unit = Organization.objects.create(kind=OrgKind.STATE_ENTERPRISE, name="南宁供电局兴宁供电分局",
                                       place=tree["beining"])
    committee = Organization.objects.create(kind=OrgKind.COMMUNITY_COMMITTEE, name="北宁社区党委",
                                            place=tree["beining"])
    far = Organization.objects.create(kind=OrgKind.DEPARTMENT, name="青秀区城市管理局", place=qingxiu)
    return SimpleNamespace(
        cg=cg, squad=squad, sj=sj, unit=unit, committee=committee, far=far, qingxiu=qingxiu,
        h_cg=user("h_cg", ("department_handler", cg), first_name="覃城管"),
        h_cg2=user("h_cg2", ("department_handler", cg), first_name="蒙城管"),
        h_squad=user("h_squad", ("department_handler", squad), first_name="韦队长"),
        h_sj=user("h_sj", ("department_handler", sj), first_name="黄市监"),
        liaison=user("liaison", ("unit_liaison", unit), first_name="陆联络员"),
        h_far=user("h_far", ("department_handler", far), first_name="梁青秀"),
    )


def at_street(city, accept=False, **kw):
    """An appeal handed up grid → community → street (escalated, owned by the street officer)."""
    a = submit(city.jumin, **kw)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    a = services.appeal_accept(actor=city.cw, appeal=a)
    a = services.appeal_hand_on(actor=city.cw, appeal=a, reason="涉及城管和市场监管，需街道吹哨")
    if accept:
        a = services.appeal_accept(actor=city.so, appeal=a)
    return a


def whistle(city, appeal, *orgs, **kw):
    """The street officer summons the organisations with the category's default deadlines."""
    return services.whistle_blow(actor=city.so, appeal=appeal, version=appeal.version,
                                 summons=[{"organization_id": o.pk} for o in orgs], **kw)
