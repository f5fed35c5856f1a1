"""Pickers at city scale: no page of any role's menu, nor the forms they lead to, offers a <select>
whose options grow with the city. Over a district-scale registry (more than 50 communities, grids,
organisations, member units, departments, people and volunteer teams) each role walks its menu and
its forms; every <select> and every <datalist> holds at most 50 options (the fixed lists: states,
kinds, categories).
The city-sized choices are searchable pickers (static/js/picker.js over /api/v1/pick/<kind>)."""

from __future__ import annotations

import re

import pytest

from gongzhi.org.models import Organization, PartyMembership, Person
from gongzhi.places.models import GridLevel, Place, PlaceKind
from gongzhi.volunteering.models import Team, TeamMember
from gongzhi.web.context import NAV, allows
from tests.factories import grid, user

pytestmark = pytest.mark.django_db
MANY = 55
LIMIT = 50
# The forms the menu pages lead to (a page a role may not open answers 403/404 and is skipped).
FORMS = ["/volunteering/activities/new/", "/volunteering/teams/new/", "/volunteering/reports/",
         "/lists/needs/new/", "/lists/resources/new/", "/org/new/", "/org/units/new/", "/org/people/new/",
         "/org/posts/new/", "/accounts/users/new/", "/appeals/entry/", "/appeals/new/", "/timebank/"]


@pytest.fixture
def district(tree):
    street, beining = tree["street"], tree["beining"]
    for i in range(MANY):
        Place.objects.create(kind=PlaceKind.COMMUNITY, code=f"450102001{100 + i:03d}", name=f"第{i}社区",
                             parent=street)
    top = grid(beining, GridLevel.COMMUNITY, 108.0, 22.0, 108.6, 22.6)
    for i in range(MANY):
        grid(beining, GridLevel.MICRO, 108.0 + i * 0.01, 22.0, 108.01 + i * 0.01, 22.01, parent=top)
    district_org = Organization.objects.create(kind="district_committee", name="中共兴宁区委", place=tree["district"])
    units = [Organization.objects.create(kind="state_enterprise", name=f"单位{i}", place=beining)
             for i in range(MANY)]
    depts = [Organization.objects.create(kind="department", name=f"部门{i}", parent=district_org,
                                         place=tree["district"]) for i in range(MANY)]
    people = []
    for i in range(MANY):
        p = Person.objects.create(name=f"党员{i}", registered_community=beining)
        PartyMembership.objects.create(person=p, home_organization=units[0], status="in_service")
        people.append(p)
    teams = [Team.objects.create(name=f"服务队{i}", community=beining, unit=units[0]) for i in range(MANY)]
    for p in people:
        TeamMember.objects.create(team=teams[0], person=p)
    liaison = user("liaison", ("unit_liaison", units[0]))
    member = user("member", ("party_member", beining))
    people[0].user = member
    people[0].save(update_fields=["user"])
    roles = {
        "resident": user("resident", ("resident", beining)),
        "party_member": member,
        "grid_worker": user("gw", ("grid_worker", top)),
        "community_worker": user("cw", ("community_worker", beining)),
        "street_officer": user("so", ("street_officer", street)),
        "department_handler": user("dh", ("department_handler", depts[0])),
        "unit_liaison": liaison,
        "district_admin": user("da", ("district_admin", tree["district"])),
        "auditor": user("au", ("auditor", tree["district"])),
    }
    Team.objects.filter(pk=teams[0].pk).update(leader=people[0])
    return {"roles": roles, "teams": teams, "units": units, "people": people}


SELECT = re.compile(r"<select\b[^>]*>(.*?)</select>", re.S)
DATALIST = re.compile(r"<datalist\b[^>]*>(.*?)</datalist>", re.S)
ID = re.compile(r'\bid="([^"]*)"')
NAME = re.compile(r'\bname="([^"]*)"')
CHECKBOX = re.compile(r'<input\b[^>]*type="checkbox"[^>]*>')
# Fixed vocabularies, which grow with the code and not with the city: the audit log's action names.
FIXED = {("/audit/", "action")}


def big_selects(html: str) -> list[tuple[str, int]]:
    """The <select>s and <datalist>s with more than LIMIT options, and the groups of more than LIMIT
    checkboxes of one name."""
    out = []
    boxes: dict[str, int] = {}
    for m in CHECKBOX.finditer(html):
        name = NAME.search(m.group(0))
        if name:
            boxes[name.group(1)] = boxes.get(name.group(1), 0) + 1
    out += [(f"checkbox {k}", n) for k, n in boxes.items() if n > LIMIT]
    for m in SELECT.finditer(html):
        n = m.group(1).count("<option")
        if n > LIMIT:
            name = NAME.search(m.group(0)[:m.group(0).index(">") + 1])
            out.append((name.group(1) if name else "?", n))
    for m in DATALIST.finditer(html):
        n = m.group(1).count("<option")
        if n > LIMIT:
            ident = ID.search(m.group(0)[:m.group(0).index(">") + 1])
            out.append((f"datalist {ident.group(1) if ident else '?'}", n))
    return out


def test_big_selects_counts_datalists_too():
    options = "".join(f'<option value="{i}">' for i in range(LIMIT + 1))
    assert big_selects(f'<input list="codes"><datalist id="codes">{options}</datalist>') == [
        ("datalist codes", LIMIT + 1)]
    assert big_selects(f'<datalist id="few">{options[:40]}</datalist>') == []


def test_no_page_of_any_role_offers_a_select_that_grows_with_the_city(client, district):
    # A team's page, and an account's page with its role-grant form (the resident's account, in every admin's scope).
    pages = [url for _label, url, _rule in NAV] + FORMS + [f"/volunteering/teams/{district['teams'][0].pk}/",
                                                           f"/accounts/users/{district['roles']['resident'].pk}/"]
    found, seen = {}, 0
    for role, u in district["roles"].items():
        client.force_login(u)
        for url in pages:
            if url in FORMS or allows(u, next((r for _l, v, r in NAV if v == url), None)):
                r = client.get(url)
                if r.status_code != 200 or "html" not in r.get("Content-Type", ""):
                    continue
                seen += 1
                big = [b for b in big_selects(r.content.decode()) if (url, b[0]) not in FIXED]
                if big:
                    found[f"{role} {url}"] = big
    assert seen > 60
    assert not found, "\n".join(f"{k}: {v}" for k, v in sorted(found.items()))
