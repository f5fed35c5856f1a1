"""No staff power for oneself in volunteering: an organiser does not mark their own attendance (which
credits hours), a community worker does not approve their own dual report. API and pages."""

import datetime as dt

import pytest
from django.test import Client

from gongzhi.org.models import PartyMembership, Person
from gongzhi.timebank import services as tb
from gongzhi.volunteering import services
from gongzhi.volunteering.models import DualReport, SignUp
from tests.factories import user
from tests.volunteering.conftest import activity, bearer, later

pytestmark = pytest.mark.django_db


@pytest.fixture
def cwm(world):
    """A community worker of 北宁 who is also an in-service party member living there."""
    u = user("cwm", ("community_worker", world.beining), ("party_member", world.beining), first_name="陈社工")
    p = Person.objects.create(name="陈社工", registered_community=world.beining, user=u)
    PartyMembership.objects.create(person=p, home_organization=world.unit, status="in_service")
    return u


def test_organiser_cannot_check_themself_out_by_hand(world, cwm):
    a = activity(world, start_in=dt.timedelta(minutes=5))
    mine = services.signup_create(actor=cwm, activity=a)
    r = Client().post(f"/api/v1/volunteering/signups/{mine.pk}/checkin", content_type="application/json",
                      **bearer(cwm))
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    c = Client()
    c.force_login(cwm)
    r = c.post(f"/volunteering/activities/{a.pk}/signups/{mine.pk}/check-in/", follow=True)
    assert "不能为自己代签到" in r.content.decode()
    assert SignUp.objects.get(pk=mine.pk).checked_in_at is None and tb.balance(cwm.person) == 0
    # The code at the venue still works for them, like for everyone; and for others the hand marking.
    services.check_in(actor=cwm, code=a.code)
    later(a, dt.timedelta(hours=2, minutes=10))
    services.check_out(actor=cwm, code=a.code)
    assert tb.balance(cwm.person) == 2


def test_worker_cannot_approve_their_own_dual_report(world, cwm):
    r = services.report_submit(actor=cwm, kind="member")
    resp = Client().post(f"/api/v1/volunteering/reports/{r.pk}/approve", {"version": r.version},
                         content_type="application/json", **bearer(cwm))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "self_dealing"
    c = Client()
    c.force_login(cwm)
    resp = c.post(f"/volunteering/reports/{r.pk}/approve/", {"version": r.version}, follow=True)
    assert "不能审核自己提交的报到" in resp.content.decode()
    assert DualReport.objects.get(pk=r.pk).state == "pending"
    assert services.report_approve(actor=world.cw, report=r.pk, version=r.version).state == "approved"
