"""One scope rule for the list and the detail of needs and projects, and no staff power for oneself.

A member of 北宁 guesses the numbers of 兴宁's needs and projects: what the detail (page and API) answers
is exactly what the list shows; the rest is the same 404 as a number that does not exist."""

import pytest
from django.test import Client

from gongzhi.lists import services
from gongzhi.lists.models import Need, Project
from gongzhi.org.models import Person
from tests.factories import user
from tests.lists.conftest import bearer, soon, wish

pytestmark = pytest.mark.django_db


def post(who, url, data=None):
    return Client().post(url, data or {}, content_type="application/json", **bearer(who))


def _done(taker, number, requester, comment):
    assert post(taker, f"/api/v1/projects/{number}/accept").status_code == 200
    r = Client().post(f"/api/v1/projects/{number}/done", {"beneficiaries_served": "1", "hours": "2",
                                                          "summary": "送到了"}, **bearer(taker))
    assert r.status_code == 200, r.content
    r = post(requester, f"/api/v1/projects/{number}/rate", {"rating": 2, "comment": comment})
    assert r.status_code == 200, r.content


@pytest.fixture
def two(city):
    """兴宁 (the other community): a resident's needs open, claimed, rated with a comment, withdrawn."""
    res_xn = user("res_xn")
    Person.objects.create(name="孙居民", registered_community=city.xn, user=res_xn)
    dy_xn = user("dy_xn", ("party_member", city.xn))
    Person.objects.create(name="周党员", registered_community=city.xn, user=dy_xn)
    xn = [wish(city, actor=res_xn, place=city.xn, title=f"兴宁心愿{i}", due_on=soon(5 + i)) for i in range(4)]
    post(dy_xn, f"/api/v1/needs/{xn[1].number}/claim")
    done = post(dy_xn, f"/api/v1/needs/{xn[2].number}/claim").json()["number"]
    _done(dy_xn, done, res_xn, "周党员迟到了两小时")
    services.need_withdraw(actor=res_xn, need=Need.objects.get(pk=xn[3].pk), reason="不需要了")
    bn = [wish(city, title="北宁心愿"), wish(city, title="北宁心愿二")]
    post(city.dangyuan2, f"/api/v1/needs/{bn[1].number}/claim")
    city.res_xn, city.dy_xn = res_xn, dy_xn
    return city


def _listed(who, path):
    r = Client().get(f"/api/v1/{path}?limit=200", **bearer(who))
    assert r.status_code == 200
    assert r.json()["count"] == len(r.json()["items"])
    return {x["number"] for x in r.json()["items"]}


def _readable(who, api_path, page_path, numbers):
    c = Client()
    c.force_login(who)
    api, page = set(), set()
    for n in numbers:
        r = Client().get(f"/api/v1/{api_path}/{n}", **bearer(who))
        assert r.status_code in (200, 404), (n, r.status_code)
        if r.status_code == 200:
            api.add(n)
        else:
            assert r.json()["error"]["message"] in ("找不到该需求。", "找不到该项目。")
        r = c.get(f"/lists/{page_path}/{n}/")
        assert r.status_code in (200, 404), (n, r.status_code)
        if r.status_code == 200:
            page.add(n)
    return api, page


@pytest.mark.parametrize("who", ["dangyuan", "jumin", "cw", "gw", "liaison", "admin", "res_xn", "dy_xn"])
def test_need_detail_answers_exactly_what_the_list_shows(two, who):
    actor = getattr(two, who)
    numbers = set(Need.objects.values_list("number", flat=True)) | {"XQ000000000"}
    listed = _listed(actor, "needs")
    api, page = _readable(actor, "needs", "needs", numbers)
    assert api == listed and page == listed


def test_a_member_of_one_community_reads_no_taken_need_of_another(two):
    taken = Need.objects.filter(place=two.xn).exclude(state__in=("open", "withdrawn"))
    assert taken.count() == 2
    c = Client()
    c.force_login(two.dangyuan)
    for n in taken:
        r = Client().get(f"/api/v1/needs/{n.number}", **bearer(two.dangyuan))
        assert r.status_code == 404 and "周党员" not in r.content.decode()
        r = c.get(f"/lists/needs/{n.number}/")
        assert r.status_code == 404 and "周党员迟到了两小时" not in r.content.decode()
    # The open one of the other community stays readable for a taker: it is in their list to claim.
    open_xn = Need.objects.get(place=two.xn, state="open")
    assert Client().get(f"/api/v1/needs/{open_xn.number}", **bearer(two.dangyuan)).status_code == 200


def test_a_late_claim_still_hears_already_taken(two):
    taken = Need.objects.get(place=two.xn, state="claimed")
    r = post(two.dangyuan, f"/api/v1/needs/{taken.number}/claim")
    assert r.status_code == 409 and r.json()["error"]["message"] == "该需求已被认领"
    assert "周党员" not in r.content.decode()


@pytest.mark.parametrize("who", ["dangyuan", "dangyuan2", "jumin", "cw", "gw", "liaison", "admin", "res_xn", "dy_xn"])
def test_project_detail_answers_exactly_what_the_list_shows(two, who):
    actor = getattr(two, who)
    numbers = set(Project.objects.values_list("number", flat=True)) | {"XM000000000"}
    listed = _listed(actor, "projects")
    api, page = _readable(actor, "projects", "projects", numbers)
    assert api == listed and page == listed


# ---- no staff power for oneself ----

def test_a_member_cannot_claim_their_own_need(city):
    own = wish(city, actor=city.dangyuan, title="我家的灯坏了")
    r = post(city.dangyuan, f"/api/v1/needs/{own.number}/claim")
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    c = Client()
    c.force_login(city.dangyuan)
    r = c.post(f"/lists/needs/{own.number}/claim/", {"version": own.version})
    assert r.status_code == 403 and "不能认领自己提出的需求" in r.content.decode()
    assert Project.objects.count() == 0 and Need.objects.get(pk=own.pk).state == "open"
    # Someone else may.
    assert post(city.dangyuan2, f"/api/v1/needs/{own.number}/claim").status_code == 200


def test_staff_cannot_dispatch_a_need_to_themself(city):
    mine = Person.objects.create(name="陈社工", registered_community=city.bn, user=city.cw)
    n = wish(city)
    r = post(city.cw, f"/api/v1/needs/{n.number}/dispatch", {"taker_person": mine.pk})
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    assert Project.objects.count() == 0


def test_nobody_rates_their_own_service(city):
    own = wish(city, actor=city.dangyuan, title="帮邻居修车")
    number = post(city.cw, f"/api/v1/needs/{own.number}/dispatch",
                  {"taker_person": city.member.pk}).json()["number"]
    assert post(city.dangyuan, f"/api/v1/projects/{number}/accept").status_code == 200
    r = Client().post(f"/api/v1/projects/{number}/done", {"beneficiaries_served": "1", "hours": "1",
                                                          "summary": "ok"}, **bearer(city.dangyuan))
    assert r.status_code == 200
    r = post(city.dangyuan, f"/api/v1/needs/{own.number}/rate", {"rating": 5, "comment": "自己很好"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "self_dealing"
    assert Need.objects.get(pk=own.pk).rating is None
