"""A small city for the three lists: 北宁社区 with its staff, a resident, a party member and a unit."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.lists import services
from gongzhi.org.models import Organization, OrgKind, PartyMembership, Person
from tests.factories import grid_tree, user
from tests.photos import tiny_image

JPEG = tiny_image("JPEG")  # a real image: uploads are decoded and re-encoded


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def soon(days=7) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


@pytest.fixture
def city(tree):
    bn, xn = tree["beining"], tree["xingning"]
    _top, micros = grid_tree(bn, 108.32, 22.82)
    unit = Organization.objects.create(kind=OrgKind.STATE_ENTERPRISE, name="南宁供电局", place=bn)
    other_unit = Organization.objects.create(kind=OrgKind.PRIVATE_ENTERPRISE, name="兴宁物业", place=xn)
    cw = user("cw", ("community_worker", bn))
    cw_xn = user("cw_xn", ("community_worker", xn))
    gw = user("gw", ("grid_worker", micros[0]))
    jumin = user("jumin")
    Person.objects.create(name="李居民", registered_community=bn, user=jumin)
    jumin2 = user("jumin2")
    dangyuan = user("dangyuan", ("party_member", bn))
    member = Person.objects.create(name="张党员", registered_community=bn, user=dangyuan)
    dangyuan2 = user("dangyuan2", ("party_member", bn))
    member2 = Person.objects.create(name="赵党员", registered_community=bn, user=dangyuan2)
    # Registered party members of 北宁社区: the takers its community may dispatch to.
    for person in (member, member2):
        PartyMembership.objects.create(person=person, home_organization=unit)
    liaison = user("liaison", ("unit_liaison", unit))
    admin = user("qu", ("district_admin", tree["district"]))
    return SimpleNamespace(bn=bn, xn=xn, micros=micros, unit=unit, other_unit=other_unit, cw=cw, cw_xn=cw_xn,
                           gw=gw, jumin=jumin, jumin2=jumin2, dangyuan=dangyuan, member=member,
                           dangyuan2=dangyuan2, member2=member2, liaison=liaison, admin=admin, tree=tree)


def wish(city, actor=None, **kw):
    data = {"kind": "micro_wish", "title": "想要一个新书包", "beneficiary": "小明", "due_on": soon(),
            "place": city.bn, "category": "children", "skill": "goods"}
    data.update(kw)
    return services.need_create(actor=actor or city.jumin, **data)
