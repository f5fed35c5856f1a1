"""The role × action matrix over the registry, and scopes as subtrees."""

import pytest

from gongzhi.accounts.models import Role
from gongzhi.core import scopes
from tests.factories import grid_tree, user

# What each role may do on 北宁社区's registry when its scope covers 北宁 (None: nowhere).
EXPECTED = {
    Role.RESIDENT: set(),
    Role.PARTY_MEMBER: {"lists.take"},
    Role.GRID_WORKER: {"registry.view", "appeal.handle", "kpi.view", "lists.record", "lists.view"},
    Role.COMMUNITY_WORKER: {"registry.view", "registry.edit", "person.unmask", "export.ledger", "appeal.handle",
                            "appeal.dispatch", "kpi.view", "lists.record", "lists.dispatch", "lists.view",
                            "volunteer.manage", "volunteer.view", "timebank.manage", "timebank.view",
                            "deliberation.manage", "deliberation.view"},
    Role.STREET_OFFICER: {"registry.view", "registry.edit", "export.ledger", "appeal.handle", "appeal.dispatch",
                          "kpi.view", "lists.record", "lists.dispatch", "lists.view", "volunteer.manage",
                          "volunteer.view", "timebank.view", "deliberation.manage", "deliberation.view"},
    Role.DISTRICT_ADMIN: {"registry.view", "registry.edit", "person.unmask", "grid.import", "export.ledger",
                          "audit.view", "accounts.manage", "kpi.view", "lists.view", "volunteer.view",
                          "timebank.view", "deliberation.view"},
    Role.AUDITOR: {"registry.view", "audit.view", "export.ledger", "kpi.view", "lists.view", "volunteer.view",
                   "timebank.view", "deliberation.view"},
}


def _scope_for(role, tree, top):
    return {
        Role.RESIDENT: tree["beining"], Role.PARTY_MEMBER: tree["beining"], Role.GRID_WORKER: top,
        Role.COMMUNITY_WORKER: tree["beining"], Role.STREET_OFFICER: tree["street"],
        Role.DISTRICT_ADMIN: tree["district"], Role.AUDITOR: tree["district"],
    }[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_action_matrix_in_scope(tree, role):
    top, micros = grid_tree(tree["beining"], 108.32, 22.82)
    u = user(None, (role, _scope_for(role, tree, top)))
    for action in scopes.ALL_ACTIONS:
        target = tree["beining"] if action != "registry.view" else micros[0]
        assert scopes.can(u, action, target) is (action in EXPECTED[role]), (role, action)


@pytest.mark.django_db
def test_anonymous_and_roleless_users_may_do_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    nobody = user()
    for action in scopes.ALL_ACTIONS:
        assert not scopes.can(AnonymousUser(), action, tree["beining"])
        assert not scopes.can(nobody, action, tree["beining"])


@pytest.mark.django_db
def test_a_role_reaches_its_subtree_only(tree):
    cw = user(None, ("community_worker", tree["xingning"]))
    assert scopes.can(cw, "registry.edit", tree["xingning"])
    assert not scopes.can(cw, "registry.edit", tree["beining"])
    assert not scopes.can(cw, "registry.edit", tree["street"])
    street = user(None, ("street_officer", tree["street"]))
    assert scopes.can(street, "registry.edit", tree["beining"]) and scopes.can(street, "registry.edit", tree["xingning"])


@pytest.mark.django_db
def test_a_grid_worker_sees_their_grid_subtree_not_the_neighbours(tree):
    from gongzhi.places.models import Grid

    top, micros = grid_tree(tree["beining"], 108.32, 22.82)
    area = micros[0].parent
    gw = user(None, ("grid_worker", area))
    visible = set(scopes.restrict(Grid.objects.all(), gw).values_list("code", flat=True))
    assert visible == {area.code, micros[0].code, micros[1].code}
    assert not scopes.can(gw, "registry.view", micros[2])


@pytest.mark.django_db
def test_selectors_restrict_people_to_scope(tree):
    from gongzhi.org.models import Person
    from gongzhi.org.services import person_create

    admin = user(None, ("district_admin", tree["district"]))
    person_create(actor=admin, name="北宁居民", registered_community=tree["beining"])
    person_create(actor=admin, name="兴宁居民", registered_community=tree["xingning"])
    cw = user(None, ("community_worker", tree["beining"]))
    assert list(scopes.restrict(Person.objects.all(), cw).values_list("name", flat=True)) == ["北宁居民"]
    assert scopes.restrict(Person.objects.all(), user(None, ("resident", tree["beining"]))).count() == 0
    assert scopes.restrict(Person.objects.all(), admin).count() == 2


def _second_district(tree):
    from tests.factories import place

    qingxiu = place("district", "450103000000", "青秀区", tree["city"])
    street = place("street", "450103001000", "新竹街道", qingxiu)
    return qingxiu, place("community", "450103001001", "桃源社区", street)


@pytest.mark.django_db
def test_accounts_manage_reaches_accounts_by_a_role_or_a_linked_person_in_scope(tree):
    from django.contrib.auth import get_user_model

    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.org.models import Organization, Person

    _qingxiu, taoyuan = _second_district(tree)
    top, micros = grid_tree(tree["beining"], 108.32, 22.82)
    unit = Organization.objects.create(kind="private_enterprise", name="北宁汽配", place=tree["beining"])
    far_unit = Organization.objects.create(kind="private_enterprise", name="桃源商行", place=taoyuan)
    admin = user("admin", ("district_admin", tree["district"]))
    inside = {
        "resident": user("resident", ("resident", tree["beining"])),
        "grid": user("gridder", ("grid_worker", micros[0])),
        "unit": user("liaison", ("unit_liaison", unit)),
        "both": user("both", ("resident", taoyuan), ("community_worker", tree["xingning"])),
        "person": user("linked"),
    }
    Person.objects.create(name="兴宁居民", registered_community=tree["xingning"], user=inside["person"])
    outside = {
        "far": user("far", ("community_worker", taoyuan)),
        "far_unit": user("far_liaison", ("unit_liaison", far_unit)),
        "far_person": user("far_linked"),
        "nothing": user("nothing"),
    }
    Person.objects.create(name="桃源居民", registered_community=taoyuan, user=outside["far_person"])

    visible = set(scopes.restrict(get_user_model().objects.all(), admin, "accounts.manage").values_list(
        "username", flat=True))
    assert visible == {u.username for u in inside.values()} | {"admin"}
    for u in inside.values():
        assert scopes.can(admin, "accounts.manage", u), u.username
    for u in outside.values():
        assert not scopes.can(admin, "accounts.manage", u), u.username
    # The SQL filter and the Python test agree on every role assignment, in and out of scope.
    in_sql = set(scopes.restrict(RoleAssignment.objects.all(), admin, "accounts.manage").values_list("pk", flat=True))
    for ra in RoleAssignment.objects.select_related("place", "grid", "organization"):
        assert (ra.pk in in_sql) is scopes.can(admin, "accounts.manage", ra), ra


@pytest.mark.django_db
def test_no_one_but_a_district_admin_sees_accounts(tree):
    from django.contrib.auth import get_user_model

    for role, node in [("community_worker", tree["beining"]), ("street_officer", tree["street"]),
                       ("auditor", tree["district"]), ("resident", tree["beining"])]:
        u = user(None, (role, node))
        assert not scopes.can(u, "accounts.manage")
        assert not scopes.restrict(get_user_model().objects.all(), u, "accounts.manage").exists()
