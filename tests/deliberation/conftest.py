"""A small world for deliberation: 北宁社区's joint committee with member units, each backed by an
agreement, a community worker, the units' liaisons, a resident and an auditor."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from gongzhi.accounts.models import ApiToken
from gongzhi.org.models import Agreement, Membership, Organization
from tests.factories import user

UNIT_NAMES = ("南宁供电局", "兴宁区人民医院", "民生小学", "某物业公司", "邮政支局")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_numbers = iter(range(1, 10**6))


def join(committee, unit, *, joined=dt.date(2025, 1, 1), starts=None, ends=dt.date(2030, 12, 31), status="signed"):
    """Make `unit` a member of `committee` from `joined`, backed by one agreement (its term)."""
    ms, _ = Membership.objects.get_or_create(organization=committee, member=unit, defaults={"joined_on": joined})
    Agreement.objects.create(membership=ms, number=f"GJXY-T-{next(_numbers):06d}", starts_on=starts or joined,
                             ends_on=ends, status=status)
    return ms


@pytest.fixture
def world(tree):
    beining = tree["beining"]
    committee = Organization.objects.create(kind="joint_committee", name="北宁社区联合党委", place=beining)
    units = [Organization.objects.create(kind="state_enterprise", name=n, place=beining) for n in UNIT_NAMES]
    for k, u in enumerate(units):
        join(committee, u, joined=dt.date(2025, 1, 1) + dt.timedelta(days=k))
    other = Organization.objects.create(kind="joint_committee", name="兴宁社区联合党委", place=tree["xingning"])
    return SimpleNamespace(
        tree=tree, beining=beining, committee=committee, units=units, other=other,
        cw=user("cw", ("community_worker", beining), first_name="李社工"),
        cw_x=user("cw_x", ("community_worker", tree["xingning"]), first_name="赵社工"),
        liaisons=[user(f"liaison{k}", ("unit_liaison", u), first_name=f"联络员{k}") for k, u in enumerate(units)],
        resident=user("jumin", ("resident", beining), first_name="居民"),
        auditor=user("auditor", ("auditor", tree["district"])),
    )


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
