"""Volunteering's forms and filters choose communities, units, teams and leaders with the searchable
picker (GET /api/v1/pick/<kind>?for=organise|public|team): each offers what the actor may choose, and a
value posted around the picker (an id outside the actor's scope) is refused with a clear message,
nothing changed."""

from __future__ import annotations

import pytest

from gongzhi.org import search
from gongzhi.org.models import Organization
from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity, Team

pytestmark = pytest.mark.django_db


def _labels(items):
    return [i["label"] for i in items]


@pytest.fixture
def teams(world):
    mine = services.team_create(actor=world.cw, community=world.beining, name="北宁红扳手", unit=world.unit)
    other = Team.objects.create(name="兴宁夕阳红", community=world.xingning)
    return mine, other


def test_the_pages_offer_pickers_not_lists(client, world, teams):
    client.force_login(world.liaison)
    for url, name in (("/volunteering/activities/new/", "community"), ("/volunteering/activities/new/", "team"),
                      ("/volunteering/activities/new/", "unit"), ("/volunteering/teams/new/", "community"),
                      ("/volunteering/activities/", "community"), ("/volunteering/teams/", "community"),
                      ("/volunteering/reports/", "organization")):
        html = client.get(url).content.decode()
        assert f'<select name="{name}" data-picker=' in html, (url, name)
    client.force_login(world.cw)
    html = client.get(f"/volunteering/teams/{teams[0].pk}/").content.decode()
    assert '<select name="leader" data-picker="person" data-purpose="team"' in html
    assert f'data-team="{teams[0].pk}"' in html


def test_organise_offers_what_the_actor_may_organise(world, teams):
    mine, other = teams
    assert _labels(search.pick(world.liaison, "member_unit", purpose="organise")) == ["南宁供电局"]
    assert _labels(search.pick(world.liaison, "team", purpose="organise")) == ["北宁红扳手"]
    assert _labels(search.pick(world.cw, "community", purpose="organise")) == ["北宁社区"]
    assert _labels(search.pick(world.cw, "team", q="hbs", purpose="organise")) == ["北宁红扳手"]
    assert search.pick(world.resident, "team", purpose="organise") == []


def test_a_team_leader_is_chosen_among_its_members(world, teams):
    mine, _other = teams
    services.team_join(actor=world.m1, team=mine)
    assert _labels(search.pick(world.cw, "person", purpose="team", context=mine.pk)) == ["张党员"]
    from gongzhi.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        search.pick(world.m2, "person", purpose="team", context=mine.pk)


def test_the_public_community_search_needs_no_sign_in(client, world):
    r = client.get("/api/v1/pick/community?for=public&q=bn")
    assert r.status_code == 200 and _labels(r.json()["results"]) == ["北宁社区"]
    assert client.get("/api/v1/pick/person?for=registry&q=z").status_code in (401, 403)


def test_an_id_outside_the_actors_scope_is_refused_and_nothing_changes(client, world, teams):
    mine, other = teams
    client.force_login(world.liaison)
    base = {"title": "义诊", "community": str(world.beining.pk), "venue": "广场", "starts_at": "2030-01-01T09:00",
            "ends_at": "2030-01-01T11:00", "capacity": "5", "publish": "1"}
    r = client.post("/volunteering/activities/new/", {**base, "organiser_kind": "unit", "unit": str(world.other.pk)})
    assert r.status_code in (400, 403) and "某科技公司" not in r.content.decode().split('data-testid="error"')[0]
    assert 'data-testid="error"' in r.content.decode()
    r = client.post("/volunteering/activities/new/", {**base, "organiser_kind": "team", "team": str(other.pk)})
    assert r.status_code in (400, 403) and 'data-testid="error"' in r.content.decode()
    assert not Activity.objects.exists()
    # A leader who is not a member of the team: refused, the team unchanged.
    client.force_login(world.cw)
    before = Team.objects.get(pk=mine.pk)
    r = client.post(f"/volunteering/teams/{mine.pk}/edit/", {"version": before.version, "name": before.name,
                                                            "leader": str(world.m3.person.pk)}, follow=True)
    assert "不是本队队员" in r.content.decode()
    after = Team.objects.get(pk=mine.pk)
    assert (after.leader_id, after.version) == (before.leader_id, before.version)
    assert not mine.memberships.filter(person=world.m3.person).exists()


def test_the_board_refuses_a_community_outside_the_actors_dispatch_scope(client, world):
    client.force_login(world.cw)
    r = client.get(f"/appeals/board/?community={world.xingning.code}")
    assert r.status_code == 400 and "不在可选范围内" in r.content.decode()
    assert client.get(f"/appeals/board/?community={world.beining.code}").status_code == 200


def test_unit_organise_scope_excludes_other_units(world):
    assert not search.pick(world.liaison, "member_unit", q="kj", purpose="organise")
    assert Organization.objects.filter(name="某科技公司").exists()


# ---- a new team's leader: the people registered in its community ----

@pytest.fixture
def outsider(world):
    from gongzhi.org.models import Person

    return Person.objects.create(name="兴宁某人", registered_community=world.xingning)


def test_a_new_teams_leader_is_picked_among_the_people_of_its_community(client, world, outsider):
    found = _labels(search.pick(world.cw, "person", purpose="leader", context=world.beining.pk, limit=50))
    assert {"张党员", "王党员", "刘党员"} <= set(found) and "兴宁某人" not in found
    assert _labels(search.pick(world.cw, "person", q="zdy", purpose="leader", context=world.beining.pk)) == ["张党员"]
    assert _labels(search.pick(world.liaison, "person", q="wdy", purpose="leader", context=world.beining.pk)) == [
        "王党员"]
    from gongzhi.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):  # a resident forms no team, so picks no leader
        search.pick(world.resident, "person", purpose="leader", context=world.beining.pk)
    with pytest.raises(ValidationFailed):  # no community chosen yet
        search.pick(world.cw, "person", purpose="leader", context="")
    client.force_login(world.cw)
    r = client.get(f"/api/v1/pick/person?for=leader&community={world.beining.pk}&q=liu")
    assert r.status_code == 200 and _labels(r.json()["results"]) == ["刘党员"]
    html = client.get("/volunteering/teams/new/").content.decode()
    assert '<select name="leader" data-picker="person" data-purpose="leader"' in html
    assert 'data-follows-community="community"' in html and 'inputmode="numeric"' not in html


def test_a_leader_from_another_community_is_refused_and_no_team_is_formed(client, world, outsider):
    from gongzhi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.team_create(actor=world.cw, community=world.beining, name="追光", leader=outsider)
    assert exc.value.code == "leader_outside" and "兴宁某人" in str(exc.value.message)
    client.force_login(world.cw)
    r = client.post("/volunteering/teams/new/", {"name": "追光", "community": str(world.beining.pk),
                                                 "leader": str(outsider.pk)})
    assert r.status_code == 400 and "不在可选范围内" in r.content.decode()
    from tests.volunteering.conftest import bearer

    r = client.post("/api/v1/volunteering/teams", {"community_id": world.beining.pk, "name": "追光",
                                                   "leader_id": outsider.pk},
                    content_type="application/json", **bearer(world.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "leader_outside"
    assert not Team.objects.filter(name="追光").exists()
    # A person of the community is taken.
    t = services.team_create(actor=world.cw, community=world.beining, name="追光", leader=world.m1.person)
    assert t.leader == world.m1.person
