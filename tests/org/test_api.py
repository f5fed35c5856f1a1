"""The registry API: the same services as the pages, errors as {"error": {"code", "message"}}."""

import pytest

from gongzhi.core.models import AuditEntry
from gongzhi.org import services
from gongzhi.org.models import Agreement, Organization, PartyMembership, Person, Post
from tests.org.helpers import bad_check_digit, bearer, id_number, phone

pytestmark = pytest.mark.django_db


def post(client, url, u, body):
    return client.post(url, body, content_type="application/json", **(bearer(u) if u else {}))


def error(r):
    return r.json()["error"]["code"]


# ---- people ----

def _person(**over):
    body = {"name": "王五", "phone": phone(5), "id_number": id_number(5), "gender": "F",
            "registered_community": "450102001004"}
    body.update(over)
    return body


def test_create_person_returns_201_and_masked_values(client, reg):
    r = post(client, "/api/v1/people", reg.worker, _person(party_status="in_service",
                                                           home_organization_id=reg.beining.pk))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["phone"] == "139****0005" and data["id_number"].startswith("4501****")
    assert phone(5) not in r.content.decode() and id_number(5) not in r.content.decode()
    assert data["party_status"] == "in_service" and data["home_organization"] == "北宁社区党委"
    assert Person.objects.filter(name="王五", registered_community=reg.tree["beining"]).exists()


@pytest.mark.parametrize("over, status, code", [
    ({"registered_community": "450102001999"}, 400, "no_community"),
    ({"phone": "1381234"}, 400, "bad_phone"),
    ({"id_number": bad_check_digit(id_number(5))}, 400, "bad_id_number"),
    ({"id_number": id_number(1)}, 409, "duplicate_person"),
    ({"party_status": "in_service"}, 400, "home_org_required"),
    ({"party_status": "in_service", "home_organization_id": 999999}, 400, "no_organization"),
    ({"gender": "X"}, 400, "bad_gender"),
    ({"name": "   "}, 400, "bad_name"),
])
def test_create_person_refuses_bad_input_and_saves_nothing(client, reg, over, status, code):
    people, members = Person.objects.count(), PartyMembership.objects.count()
    r = post(client, "/api/v1/people", reg.worker, _person(**over))
    assert r.status_code == status and error(r) == code
    assert r.json()["error"]["message"]
    assert (Person.objects.count(), PartyMembership.objects.count()) == (people, members)


def test_create_person_with_a_missing_field_is_400_invalid_input(client, reg):
    r = post(client, "/api/v1/people", reg.worker, {"name": "王五"})
    assert r.status_code == 400 and error(r) == "invalid_input"


def test_people_api_costs_a_fixed_number_of_queries(client, reg, django_assert_max_num_queries):
    for i in range(40):
        services.person_create(actor=reg.admin, name=f"党员{i:02d}", registered_community=reg.tree["beining"],
                               home_organization=reg.beining, party_status="retired")
    headers = bearer(reg.worker)
    client.get("/api/v1/people", **headers)  # the token's last-used stamp is written once a minute
    with django_assert_max_num_queries(3):  # token + user, role assignments, one page of people
        r = client.get("/api/v1/people", {"limit": 100}, **headers)
    assert len(r.json()["items"]) == 41


def test_people_api_is_scoped_and_masked(client, reg):
    r = client.get("/api/v1/people", **bearer(reg.worker_x))
    names = [p["name"] for p in r.json()["items"]]
    assert names == ["李四"]
    assert "13987654321" not in r.content.decode()


# ---- organisations ----

def test_create_organisation(client, reg):
    r = post(client, "/api/v1/organizations", reg.worker,
             {"kind": "compound_branch", "name": "金湖小区党支部", "parent_id": reg.beining.pk, "place": "450102001004"})
    assert r.status_code == 201 and r.json()["parent_id"] == reg.beining.pk
    assert Organization.objects.get(name="金湖小区党支部").place == reg.tree["beining"]


@pytest.mark.parametrize("body, status, code", [
    ({"kind": "nonsense", "name": "甲"}, 400, "bad_kind"),
    ({"kind": "compound_branch", "name": ""}, 400, "name_required"),
    ({"kind": "compound_branch", "name": "甲", "place": "450102001999"}, 400, "no_place"),
    ({"kind": "compound_branch", "name": "甲", "place": "450102001003"}, 403, "forbidden"),
    ({"kind": "private_enterprise", "name": "甲", "place": "450102001004", "credit_code": "123"}, 400,
     "bad_credit_code"),
])
def test_create_organisation_refusals(client, reg, body, status, code):
    before = Organization.objects.count()
    r = post(client, "/api/v1/organizations", reg.worker, body)
    assert r.status_code == status and error(r) == code
    assert Organization.objects.count() == before


def test_a_foreign_parent_is_refused_even_with_an_own_place(client, reg):
    r = post(client, "/api/v1/organizations", reg.worker,
             {"kind": "compound_branch", "name": "甲", "parent_id": reg.xingning.pk, "place": "450102001004"})
    assert r.status_code == 404 and error(r) == "no_organization"  # the foreign parent is not even visible


def test_organisation_detail_lists_member_units_and_agreements(client, reg):
    services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name="南宁供电局", unit_kind="state_enterprise",
                              number="BN-1", starts_on="2025-01-01", ends_on="2027-01-01", duties=["开放会议室"])
    r = client.get(f"/api/v1/organizations/{reg.joint.pk}", **bearer(reg.worker))
    assert r.status_code == 200
    units = r.json()["member_units"]
    assert units[0]["member"]["name"] == "南宁供电局"
    assert units[0]["agreements"][0] == {"id": Agreement.objects.get().id, "number": "BN-1", "starts_on": "2025-01-01",
                                         "ends_on": "2027-01-01", "duties": ["开放会议室"], "commitments": [],
                                         "status": "signed", "version": 1}
    r = client.get(f"/api/v1/organizations/{reg.joint.pk}", **bearer(reg.worker_x))
    assert r.status_code == 404 and error(r) == "no_organization"


# ---- agreements ----

def _agreement(reg, **over):
    body = {"organization_id": reg.joint.pk, "member_name": "南宁供电局", "member_kind": "state_enterprise",
            "number": "BN-2025-001", "starts_on": "2025-01-01", "ends_on": "2027-12-31",
            "duties": ["认领微心愿"], "commitments": ["会议室每月 4 次"]}
    body.update(over)
    return body


def test_create_agreement_registers_the_unit_and_audits(client, reg):
    r = post(client, "/api/v1/agreements", reg.worker, _agreement(reg))
    assert r.status_code == 201, r.content
    assert r.json()["member"]["name"] == "南宁供电局" and r.json()["duties"] == ["认领微心愿"]
    assert AuditEntry.objects.filter(action="agreement.create").count() == 1


def test_create_agreement_for_an_existing_member(client, reg):
    unit = Organization.objects.create(kind="institution", name="兴宁区医院", place=reg.tree["beining"])
    r = post(client, "/api/v1/agreements", reg.worker, _agreement(reg, member_id=unit.pk, member_name=""))
    assert r.status_code == 201 and r.json()["member"]["id"] == unit.pk


@pytest.mark.parametrize("over, status, code", [
    ({"starts_on": "2025-06-01", "ends_on": "2025-01-01"}, 400, "agreement_ends_before_start"),
    ({"starts_on": "2025-06-01", "ends_on": "2025-06-01"}, 400, "agreement_ends_before_start"),
    ({"number": "DUP-1"}, 400, "duplicate_number"),
    ({"member_kind": "joint_committee"}, 400, "bad_unit_kind"),
    ({"number": ""}, 400, "number_required"),
    ({"starts_on": "2025-13-01"}, 400, "invalid_input"),
])
def test_create_agreement_refusals_save_nothing(client, reg, over, status, code):
    services.member_unit_join(actor=reg.admin, organization=reg.joint, unit_name="兴宁区医院", unit_kind="institution",
                              number="DUP-1", starts_on="2025-01-01", ends_on="2026-01-01")
    orgs, agreements = Organization.objects.count(), Agreement.objects.count()
    r = post(client, "/api/v1/agreements", reg.worker, _agreement(reg, **over))
    assert r.status_code == status and error(r) == code
    assert (Organization.objects.count(), Agreement.objects.count()) == (orgs, agreements)


def test_create_agreement_on_a_committee_out_of_scope_is_404(client, reg):
    r = post(client, "/api/v1/agreements", reg.worker, _agreement(reg, organization_id=reg.xjoint.pk))
    assert r.status_code == 404 and not Agreement.objects.exists()


# ---- posts ----

def test_assign_and_list_posts(client, reg):
    r = post(client, "/api/v1/posts", reg.worker, {"person_id": reg.zhang.pk, "title": "secretary",
                                                   "organization_id": reg.joint.pk, "starts_on": "2025-01-01"})
    assert r.status_code == 201, r.content
    assert r.json()["scope"] == {"kind": "organization", "id": reg.joint.pk, "code": None, "name": "北宁社区联合党委"}
    r = post(client, "/api/v1/posts", reg.worker, {"person_id": reg.zhang.pk, "title": "building_head",
                                                   "place": "450102001004", "starts_on": "2025-01-01",
                                                   "ends_on": "2027-01-01"})
    assert r.status_code == 201
    items = client.get("/api/v1/posts", **bearer(reg.worker)).json()["items"]
    assert [(i["person"]["name"], i["title"]) for i in items] == [("张三", "secretary"), ("张三", "building_head")]
    assert client.get("/api/v1/posts", **bearer(reg.worker_x)).json()["items"] == []
    assert client.get("/api/v1/posts", {"title": "secretary"}, **bearer(reg.admin)).json()["items"][0]["id"]


def test_a_single_holder_post_twice_is_409(client, reg):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    services.post_assign(actor=reg.admin, person=reg.zhang, title="secretary", starts_on="2024-01-01",
                         ends_on="2026-01-01", organization=reg.joint)
    r = post(client, "/api/v1/posts", reg.worker, {"person_id": wang.pk, "title": "secretary",
                                                   "organization_id": reg.joint.pk, "starts_on": "2025-06-01"})
    assert r.status_code == 409 and error(r) == "post_taken" and "张*" in r.json()["error"]["message"]
    # After the term ends the post is free again.
    r = post(client, "/api/v1/posts", reg.worker, {"person_id": wang.pk, "title": "secretary",
                                                   "organization_id": reg.joint.pk, "starts_on": "2026-01-01"})
    assert r.status_code == 201
    assert Post.objects.count() == 2


@pytest.mark.parametrize("over, status, code", [
    ({"title": "emperor"}, 400, "bad_title"),
    ({"organization_id": None}, 400, "scope_required"),
    ({"place": "450102001004"}, 400, "one_scope"),
    ({"ends_on": "2024-01-01"}, 400, "post_ends_before_start"),
    ({"grid": "450102001004999"}, 400, "no_grid"),
])
def test_post_refusals(client, reg, over, status, code):
    body = {"person_id": reg.zhang.pk, "title": "committee_member", "organization_id": reg.joint.pk,
            "starts_on": "2025-01-01"}
    body.update(over)
    r = post(client, "/api/v1/posts", reg.worker, body)
    assert r.status_code == status and error(r) == code
    assert not Post.objects.exists()


def test_posts_api_costs_a_fixed_number_of_queries(client, reg, django_assert_max_num_queries):
    for i in range(30):
        p = services.person_create(actor=reg.admin, name=f"委员{i}", registered_community=reg.tree["beining"])
        services.post_assign(actor=reg.admin, person=p, title="committee_member", starts_on="2025-01-01",
                             organization=reg.joint)
    headers = bearer(reg.worker)
    client.get("/api/v1/posts", **headers)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/v1/posts", **headers).json()["items"]) == 30


def test_the_registry_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/people"]) and {"get", "post"} <= set(paths["/api/v1/posts"])
    assert {"get", "post"} <= set(paths["/api/v1/organizations"])
    assert "get" in paths["/api/v1/organizations/{organization_id}"]
    assert "201" in paths["/api/v1/agreements"]["post"]["responses"]
