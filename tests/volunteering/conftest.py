"""A small world for volunteering: 北宁社区 with a community worker, a unit and its liaison, and three
in-service party members of that unit (linked accounts) who live in 北宁."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db.models import F
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.org.models import Organization, PartyMembership, Person
from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity, SignUp
from tests.factories import user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def member(username, name, community, org, status="in_service"):
    u = user(username, ("party_member", community), first_name=name)
    p = Person.objects.create(name=name, registered_community=community, user=u)
    PartyMembership.objects.create(person=p, home_organization=org, status=status)
    return u


@pytest.fixture
def world(tree):
    unit = Organization.objects.create(kind="state_enterprise", name="南宁供电局", place=tree["beining"])
    other = Organization.objects.create(kind="private_enterprise", name="某科技公司", place=tree["xingning"])
    cw = user("cw", ("community_worker", tree["beining"]), first_name="李社工")
    cw_x = user("cw_x", ("community_worker", tree["xingning"]), first_name="赵社工")
    return SimpleNamespace(
        tree=tree, beining=tree["beining"], xingning=tree["xingning"], unit=unit, other=other, cw=cw, cw_x=cw_x,
        liaison=user("liaison", ("unit_liaison", unit), first_name="周联络员"),
        m1=member("m1", "张党员", tree["beining"], unit),
        m2=member("m2", "王党员", tree["beining"], unit),
        m3=member("m3", "刘党员", tree["beining"], unit),
        retired=member("old", "老党员", tree["beining"], unit, status="retired"),
        resident=user("jumin", ("resident", tree["beining"]), first_name="居民"),
        auditor=user("auditor", ("auditor", tree["district"])),
    )


def activity(w, *, capacity=2, start_in=dt.timedelta(minutes=-10), length=dt.timedelta(hours=2), publish=True,
             **kw):
    starts = timezone.now() + start_in
    params = {"title": "清理楼道小广告", "community": w.beining, "venue": "北宁社区党群服务中心", "starts_at": starts,
              "ends_at": starts + length, "capacity": capacity, "hours": "2", "publish": publish}
    params.update(kw)
    return services.activity_create(actor=w.cw, **params)


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def later(a, by: dt.timedelta):
    """Time passes: the activity and its sign-ups' times move `by` into the past, as if the clock had
    moved on `by` (tests do not wait hours for a check-out). Returns the activity, refreshed."""
    Activity.objects.filter(pk=a.pk).update(starts_at=F("starts_at") - by, ends_at=F("ends_at") - by)
    SignUp.objects.filter(activity=a).update(queued_at=F("queued_at") - by, checked_in_at=F("checked_in_at") - by,
                                             checked_out_at=F("checked_out_at") - by)
    a.refresh_from_db()
    return a

