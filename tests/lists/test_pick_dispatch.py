"""Dispatching a need: the picker offers the units, party members and volunteer teams of the need's
community (not the whole street, not cut at 200 names), namesakes told apart; the form refuses a
taker the picker would not offer."""

import datetime as dt

import pytest

from gongzhi.lists.models import Need
from gongzhi.org.models import Membership, Organization, OrgKind, PartyMembership, Person
from gongzhi.org.services import person_create
from gongzhi.volunteering.models import Team
from tests.lists.conftest import wish
from tests.lists.test_pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def takers(city):
    bn, xn = city.bn, city.xn
    committee = Organization.objects.create(kind=OrgKind.JOINT_COMMITTEE, name="北宁社区联合党委", place=bn)
    outside = Organization.objects.create(kind=OrgKind.INSTITUTION, name="广西医科大学", place=city.tree["district"])
    Membership.objects.create(organization=committee, member=outside, joined_on=dt.date(2024, 1, 1))

    def member(name, phone, community, home):
        p = person_create(actor=city.admin, name=name, phone=phone, registered_community=community)
        PartyMembership.objects.create(person=p, home_organization=home)
        return p

    return {
        "outside": outside,
        "he1": member("何伟", "13800001111", bn, committee),
        "he2": member("何伟", "13800002222", bn, city.unit),
        "he_xn": member("何伟", "13800003333", xn, committee),
        "team": Team.objects.create(name="北宁爱心服务队", community=bn),
        "team_xn": Team.objects.create(name="兴宁爱心服务队", community=xn),
    }


def _pick(c, need, q="", kind="taker", **extra):
    r = c.get(f"/api/v1/pick/{kind}", {"for": "dispatch", "need": need.number, "q": q, **extra})
    assert r.status_code == 200, r.content
    return r.json()["results"]


def test_the_need_s_community_only(city, takers):
    n = wish(city)
    c = login(city.cw)
    values = {i["value"] for i in _pick(c, n, limit="50")}
    assert values == {f"org:{city.unit.pk}", f"org:{takers['outside'].pk}", f"person:{takers['he1'].pk}",
                      f"person:{takers['he2'].pk}", f"person:{city.member.pk}", f"person:{city.member2.pk}",
                      f"team:{takers['team'].pk}"}
    # 兴宁物业 sits in the same street but in another community: not a taker for 北宁's need.
    assert _pick(c, n, "xnwy") == [] and _pick(c, n, "兴宁") == []


def test_namesakes_are_told_apart(city, takers):
    n = wish(city)
    found = _pick(login(city.cw), n, "hw")
    assert [i["label"] for i in found] == ["何伟", "何伟"]
    assert {i["detail"] for i in found} == {"北宁社区联合党委 · 北宁社区 · 尾号1111", "南宁供电局 · 北宁社区 · 尾号2222"}


def test_by_kind_teams_and_pinyin(city, takers):
    n = wish(city)
    c = login(city.cw)
    assert [i["value"] for i in _pick(c, n, "aixin")] == [f"team:{takers['team'].pk}"]
    assert [i["id"] for i in _pick(c, n, "gxykdx", kind="member_unit")] == [takers["outside"].pk]
    assert [i["id"] for i in _pick(c, n, "hewei", kind="person")] == sorted([takers["he1"].pk, takers["he2"].pk])


def test_who_may_not_dispatch_may_not_search(city, takers):
    n = wish(city)
    r = login(city.cw_xn).get("/api/v1/pick/taker", {"for": "dispatch", "need": n.number})
    assert r.status_code == 404  # another community's need is not theirs to see
    r = login(city.jumin).get("/api/v1/pick/taker", {"for": "dispatch", "need": n.number})
    assert r.status_code == 403


@pytest.mark.parametrize("taker", ["other_unit", "he_xn", "team_xn", "garbage", "unknown_kind"])
def test_the_form_refuses_a_taker_out_of_scope(city, takers, taker):
    n = wish(city)
    value = {"other_unit": f"org:{city.other_unit.pk}", "he_xn": f"person:{takers['he_xn'].pk}",
             "team_xn": f"team:{takers['team_xn'].pk}", "garbage": "org:abc", "unknown_kind": f"x:{city.unit.pk}"}[taker]
    r = login(city.cw).post(f"/lists/needs/{n.number}/dispatch/", {"taker": value, "version": n.version})
    assert r.status_code == 400
    assert "不在可选范围内" in r.content.decode()
    assert Need.objects.get(pk=n.pk).state == "open"


def test_the_form_dispatches_to_a_member_of_the_community(city, takers):
    n = wish(city)
    r = login(city.cw).post(f"/lists/needs/{n.number}/dispatch/", {"taker": f"person:{takers['he2'].pk}",
                                                                   "version": n.version})
    assert r.status_code == 302
    n.refresh_from_db()
    assert n.state == "dispatched" and n.projects.get().taker_person == Person.objects.get(pk=takers["he2"].pk)


def test_a_resident_posting_a_need_picks_any_community_by_pinyin(city):
    """The need form's community is a picker (a city has hundreds), open to every signed-in user."""
    c = login(city.jumin)
    html = c.get("/lists/needs/new/").content.decode()
    assert 'data-picker="community" data-purpose="public"' in html and "<option" in html
    assert html.count("<option") < 40  # the chosen community only, beside the short fixed lists
    r = c.get("/api/v1/pick/community", {"for": "public", "q": "xnsq"})
    assert [i["label"] for i in r.json()["results"]] == ["兴宁社区"]
    assert c.get("/api/v1/pick/person", {"for": "public", "q": "z"}).status_code == 400  # no people
