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


# Smallest valid files of each kind, and something that only claims to be an image.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
NOT_AN_IMAGE = b"<script>alert(1)</script> pretending to be photo.jpg"
