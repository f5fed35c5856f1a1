"""The role-grant forms (new account, account page) choose the role's scope with the searchable picker
(GET /api/v1/pick/<place|grid|organization>?for=grant), which follows the chosen scope type and offers
only what the granting administrator's own scope covers; no list of every place is sent with the page.
A code posted around the picker, outside that scope, is refused with a clear message, nothing changed."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from gongzhi.accounts import services
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.errors import PermissionDenied
from gongzhi.org import search
from gongzhi.org.models import Organization
from gongzhi.places.models import GridLevel
from tests.factories import grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def nodes(acc):
    return {
        "grid": grid(acc.tree["beining"], GridLevel.COMMUNITY, 108.0, 22.0, 108.1, 22.1, name="北宁一网格"),
        "far_grid": grid(acc.taoyuan, GridLevel.COMMUNITY, 108.2, 22.0, 108.3, 22.1, name="桃源一网格"),
        "unit": Organization.objects.create(kind="state_enterprise", name="北宁供电所", place=acc.tree["beining"]),
        "far_unit": Organization.objects.create(kind="state_enterprise", name="桃源供电所", place=acc.taoyuan),
    }


def labels(items):
    return [i["label"] for i in items]


def test_the_grant_picker_offers_only_the_administrators_own_scope(acc, nodes):
    assert labels(search.pick(acc.admin, "place", q="bnsq", purpose="grant")) == ["北宁社区"]
    assert search.pick(acc.admin, "place", q="taoyuan", purpose="grant") == []
    assert search.pick(acc.admin, "place", q="nanning", purpose="grant") == []  # the city is above the admin
    assert labels(search.pick(acc.admin, "grid", q="bn", purpose="grant")) == ["北宁一网格"]
    assert labels(search.pick(acc.admin, "organization", q="gds", purpose="grant")) == ["北宁供电所"]
    assert labels(search.pick(acc.far_admin, "organization", q="gds", purpose="grant")) == ["桃源供电所"]
    assert labels(search.pick(acc.far_admin, "place", q="bn", purpose="grant")) == []
    # Places and grids carry the code the form posts; organisations their id.
    [place] = search.pick(acc.admin, "place", q="北宁社区", purpose="grant")
    assert place["code"] == "450102001004"
    # Whatever the picker offers, the service grants.
    for kind, field in (("place", "place"), ("grid", "grid"), ("organization", "organization")):
        for item in search.pick(acc.admin, kind, purpose="grant", limit=50):
            row = search.pick_one(acc.admin, kind, item["id"], purpose="grant")
            ra = services.role_assign(actor=acc.admin, user=acc.subject, role="auditor", **{field: row})
            RoleAssignment.objects.filter(pk=ra.pk).delete()
    with pytest.raises(PermissionDenied):  # a community worker grants no roles
        search.pick(acc.worker, "place", purpose="grant")


def test_the_forms_offer_a_picker_that_follows_the_scope_type_not_a_list(client, acc, nodes):
    client.force_login(acc.admin)
    for url in (reverse("accounts:user_create"), reverse("accounts:user", args=[acc.subject.pk])):
        html = client.get(url).content.decode()
        assert "<datalist" not in html and '<option value="450102001004"' not in html, url
        [tag] = re.findall(r'<select name="scope_code"[^>]*>', html)
        for attr in ('data-picker="place"', 'data-purpose="grant"', 'data-follows-kind="scope_kind"',
                     'data-value-field="code"'):
            assert attr in tag, (url, attr)
    r = client.get("/api/v1/pick/grid?for=grant&q=bn")
    assert r.status_code == 200 and [(i["label"], i["code"]) for i in r.json()["results"]] == [
        ("北宁一网格", nodes["grid"].code)]
    # A refused form shows the picker for the type that was chosen, with the chosen row kept.
    r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                    {"role": "", "scope_kind": "organization", "scope_code": str(nodes["unit"].pk)})
    html = r.content.decode()
    assert r.status_code == 400 and 'data-picker="organization"' in html and "北宁供电所" in html
    assert 'data-value-field="code"' not in html


def test_a_scope_outside_the_administrators_own_is_refused_and_nothing_changes(client, acc, nodes):
    client.force_login(acc.admin)
    before = RoleAssignment.objects.count()
    for kind, code, name in (("grid", nodes["far_grid"].code, "桃源一网格"),
                             ("organization", str(nodes["far_unit"].pk), "桃源供电所")):
        r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                        {"role": "resident", "scope_kind": kind, "scope_code": code})
        assert r.status_code == 403 and "不在您的管理范围内" in r.content.decode() and name in r.content.decode()
    assert RoleAssignment.objects.count() == before
    r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                    {"role": "resident", "scope_kind": "organization", "scope_code": str(nodes["unit"].pk)})
    assert r.status_code == 302
    assert RoleAssignment.objects.filter(user=acc.subject, organization=nodes["unit"]).exists()


def test_the_new_account_links_a_person_chosen_with_a_picker_in_the_administrators_scope(client, acc):
    from gongzhi.org.models import Person

    mine = Person.objects.create(name="北宁某人", registered_community=acc.tree["beining"])
    far = Person.objects.create(name="桃源某人", registered_community=acc.taoyuan)
    assert labels(search.pick(acc.admin, "person", q="mr", purpose="grant")) == ["北宁某人"]
    assert labels(search.pick(acc.far_admin, "person", q="mr", purpose="grant")) == ["桃源某人"]
    client.force_login(acc.admin)
    html = client.get(reverse("accounts:user_create")).content.decode()
    [tag] = re.findall(r'<select name="person_id"[^>]*>', html)
    assert 'data-picker="person"' in tag and 'data-purpose="grant"' in tag
    form = {"username": "wangwu", "full_name": "王五", "password": "gongzhi-demo", "password2": "gongzhi-demo",
            "role": "", "scope_kind": "place", "scope_code": ""}
    User = get_user_model()
    before = User.objects.count()
    r = client.post(reverse("accounts:user_create"), {**form, "person_id": str(far.pk)})
    assert r.status_code == 400 and "不在您的范围内" in r.content.decode() and User.objects.count() == before
    r = client.post(reverse("accounts:user_create"), {**form, "person_id": str(mine.pk)})
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.user.username == "wangwu"
