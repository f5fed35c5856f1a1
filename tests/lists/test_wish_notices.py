"""The requester of a wish is kept informed: taken (claimed), dispatched, accepted, done — in the
step's transaction, not to the actor, and shown in the reader's language."""

import pytest
from django.utils import translation

from gongzhi.lists import services
from gongzhi.notifications.models import Notification
from tests.lists.conftest import wish

pytestmark = pytest.mark.django_db


def inbox(u):
    return list(Notification.objects.filter(recipient=u).order_by("id"))


def test_a_claimed_wish_tells_its_requester_at_each_step(city):
    n = wish(city)
    p = services.need_claim(actor=city.dangyuan, need=n)
    p = services.project_accept(actor=city.dangyuan, project=p)  # a claim is taken already: no second notice
    services.project_done(actor=city.dangyuan, project=p, beneficiaries_served=1, hours=1, summary="已送达")
    got = inbox(city.jumin)
    assert [x.kind for x in got] == ["progress", "result"]
    assert got[0].title == "您的心愿已被认领：想要一个新书包" and got[1].title == "您的心愿已完成：想要一个新书包"
    assert {x.link for x in got} == {f"/lists/needs/{n.number}/"}
    assert "张党员" not in got[0].title + got[0].body  # the taker is not named
    assert not Notification.objects.filter(recipient=city.dangyuan, kind__in=("progress", "result")).exists()
    with translation.override("en"):
        assert got[0].shown_title == "Your wish has been taken: 想要一个新书包"
        assert got[1].shown_title == "Your wish has been fulfilled: 想要一个新书包"


def test_a_dispatched_wish_tells_its_requester_dispatched_accepted_done(city):
    n = wish(city)
    p = services.need_dispatch(actor=city.cw, need=n, taker_organization=city.unit)
    p = services.project_accept(actor=city.liaison, project=p)
    services.project_done(actor=city.liaison, project=p, beneficiaries_served=1, hours=1, summary="ok")
    got = inbox(city.jumin)
    assert [x.title for x in got] == ["您的心愿已派单：想要一个新书包", "您的心愿已有人接单：想要一个新书包",
                                      "您的心愿已完成：想要一个新书包"]
    with translation.override("en"):
        assert [x.shown_title.split(":")[0] for x in got] == [
            "Your wish has been dispatched", "Your wish has been accepted by a provider",
            "Your wish has been fulfilled"]


def test_a_requester_who_dispatches_their_own_need_is_not_told(city):
    n = services.need_create(actor=city.cw, title="楼道灯维修", due_on=wish(city).due_on, place=city.bn,
                             source="survey", requester=city.cw)
    assert n.requester == city.cw
    services.need_dispatch(actor=city.cw, need=n, taker_organization=city.unit)
    assert not Notification.objects.filter(recipient=city.cw).exists()
