"""The edit doors of the JSON API: PATCH people/organisations/agreements/posts, terminate, renew, end.
Each carries `version`; stale is 409, out of scope 404, no permission 403, bad input 400; all change nothing."""

import datetime as dt

import pytest

from gongzhi.org import services
from gongzhi.org.models import Agreement, Membership, Organization, Person, Post
from tests.factories import user
from tests.org.edit_helpers import only_entry, secretary, snapshot, trail_text, unit_agreement
from tests.org.helpers import bearer, id_number

pytestmark = pytest.mark.django_db


def patch(client, url, u, body):
    return client.patch(url, body, content_type="application/json", **(bearer(u) if u else {}))


def post(client, url, u, body):
    return client.post(url, body, content_type="application/json", **(bearer(u) if u else {}))


def error(r):
    return r.json()["error"]["code"]


# ---- people ----

def test_patch_person_changes_only_the_fields_sent(client, reg):
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker, {"version": 1, "phone": "13900000021"})
    assert r.status_code == 200, r.content
    data = r.json()
    assert (data["name"], data["phone"], data["version"], data["party_status"]) == (
        "张三", "139****0021", 2, "in_service")
    assert "13900000021" not in r.content.decode()
    e = only_entry("person.update")
    assert (e.before, e.after) == ({"phone": "138****5678"}, {"phone": "139****0021"})
    assert "13900000021" not in trail_text()


def test_patch_person_moves_party_membership_and_removes_it(client, reg):
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker,
              {"version": 1, "home_organization_id": reg.joint.pk, "joined_on": "2011-07-01"})
    assert r.status_code == 200 and r.json()["home_organization"] == "北宁社区联合党委"
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker, {"version": 2, "party_status": None})
    assert r.status_code == 200 and r.json()["party_status"] is None
    assert not hasattr(Person.objects.get(pk=reg.zhang.pk), "party")


@pytest.mark.parametrize("body, status, code", [
    ({"phone": "1381234"}, 400, "bad_phone"),
    ({"registered_community": "450102001999"}, 400, "no_community"),
    ({"registered_community": "450102001000"}, 400, "no_community"),  # a street, not a community
    ({"registered_community": "450102001003"}, 403, "forbidden"),
    ({"id_number": id_number(2)}, 409, "duplicate_person"),
    ({"home_organization_id": 999999}, 400, "no_organization"),
    ({"name": None}, 400, "bad_name"),
])
def test_patch_person_refusals_change_nothing(client, reg, body, status, code):
    before = snapshot(reg.zhang)
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker, {"version": 1, "gender": "F", **body})
    assert r.status_code == status and error(r) == code, r.content
    assert r.json()["error"]["message"]
    assert snapshot(reg.zhang) == before


def test_patch_person_with_a_stale_version_is_409_and_changes_nothing(client, reg):
    services.person_update(actor=reg.admin, person=reg.zhang, version=1, gender="F")
    before = snapshot(reg.zhang)
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker, {"version": 1, "name": "张三丰"})
    assert r.status_code == 409 and error(r) == "stale"
    assert r.json()["error"]["message"] == "该记录已被他人修改，请刷新后重试。"
    assert snapshot(reg.zhang) == before


def test_patch_without_a_version_is_400(client, reg):
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", reg.worker, {"name": "张三丰"})
    assert r.status_code == 400 and error(r) == "invalid_input"
    assert Person.objects.get(pk=reg.zhang.pk).name == "张三"


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("resident", 403), ("grid_worker", 403),
                                         ("worker_x", 404), ("worker", 200)])
def test_patch_person_doors(client, reg, who, status):
    u = None if who == "anonymous" else getattr(reg, who)
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", u, {"version": 1, "name": "张三丰"})
    assert r.status_code == status
    assert Person.objects.get(pk=reg.zhang.pk).name == ("张三丰" if status == 200 else "张三")
    if status == 404:  # the same answer as for an id that does not exist
        missing = patch(client, "/api/v1/people/999999", u, {"version": 1, "name": "甲"})
        assert missing.status_code == 404 and missing.json() == r.json()


# ---- organisations ----

def test_patch_organisation_moves_it_and_its_subtree(client, reg):
    r = patch(client, f"/api/v1/organizations/{reg.joint.pk}", reg.admin, {"version": 1, "parent_id": reg.street.pk})
    assert r.status_code == 200 and r.json()["parent_id"] == reg.street.pk and r.json()["version"] == 2
    assert Organization.objects.get(pk=reg.joint.pk).path == f"{reg.street.path}{reg.joint.pk}/"


@pytest.mark.parametrize("body, status, code", [
    ({"parent_id": "JOINT"}, 400, "org_cycle"),
    ({"parent_id": "SELF"}, 400, "org_cycle"),
    ({"name": "兴宁社区党委"}, 400, "duplicate_name"),
    ({"place": "450102001999"}, 400, "no_place"),
    ({"kind": "kingdom"}, 400, "bad_kind"),
    ({"credit_code": "abc"}, 400, "bad_credit_code"),
    ({"parent_id": 999999}, 404, "no_organization"),
])
def test_patch_organisation_refusals_change_nothing(client, reg, body, status, code):
    body = {k: {"JOINT": reg.joint.pk, "SELF": reg.beining.pk}.get(v, v) for k, v in body.items()}
    before = snapshot(reg.beining)
    r = patch(client, f"/api/v1/organizations/{reg.beining.pk}", reg.admin, {"version": 1, **body})
    assert r.status_code == status and error(r) == code, r.content
    assert snapshot(reg.beining) == before


def test_patch_organisation_scope(client, reg):
    r = patch(client, f"/api/v1/organizations/{reg.joint.pk}", reg.worker_x, {"version": 1, "name": "甲"})
    assert r.status_code == 404
    # The new parent must be visible (404) and editable (403) for the mover.
    r = patch(client, f"/api/v1/organizations/{reg.joint.pk}", reg.worker, {"version": 1, "parent_id": reg.xingning.pk})
    assert r.status_code == 404
    r = patch(client, f"/api/v1/organizations/{reg.joint.pk}", reg.resident, {"version": 1, "name": "甲"})
    assert r.status_code == 403
    r = patch(client, f"/api/v1/organizations/{reg.joint.pk}", reg.admin, {"version": 5, "name": "甲"})
    assert r.status_code == 409 and error(r) == "stale"
    assert Organization.objects.get(pk=reg.joint.pk).name == "北宁社区联合党委"


# ---- agreements ----

def test_agreement_version_is_in_the_detail(client, reg):
    a = unit_agreement(reg)
    r = client.get(f"/api/v1/organizations/{reg.joint.pk}", **bearer(reg.worker))
    assert r.json()["member_units"][0]["agreements"][0]["version"] == a.version == 1


def test_patch_agreement(client, reg):
    a = unit_agreement(reg)
    r = patch(client, f"/api/v1/agreements/{a.pk}", reg.worker,
              {"version": 1, "ends_on": "2028-12-31", "commitments": ["会议室每月 6 次"]})
    assert r.status_code == 200, r.content
    assert r.json()["ends_on"] == "2028-12-31" and r.json()["commitments"] == ["会议室每月 6 次"]
    assert r.json()["duties"] == ["认领微心愿"] and r.json()["version"] == 2


@pytest.mark.parametrize("user_key, body, status, code", [
    ("worker", {"version": 1, "ends_on": "2024-12-31"}, 400, "agreement_ends_before_start"),
    ("worker", {"version": 1, "starts_on": "2028-01-01"}, 400, "agreement_ends_before_start"),
    ("worker", {"version": 9, "ends_on": "2029-12-31"}, 409, "stale"),
    ("worker", {"ends_on": "2029-12-31"}, 400, "invalid_input"),
    ("worker_x", {"version": 1, "ends_on": "2029-12-31"}, 404, "no_agreement"),
    ("grid_worker", {"version": 1, "ends_on": "2029-12-31"}, 403, "forbidden"),
])
def test_patch_agreement_refusals_change_nothing(client, reg, user_key, body, status, code):
    a = unit_agreement(reg)
    before = snapshot(a)
    r = patch(client, f"/api/v1/agreements/{a.pk}", getattr(reg, user_key), body)
    assert r.status_code == status and error(r) == code, r.content
    assert snapshot(a) == before


def test_terminate_agreement(client, reg):
    a = unit_agreement(reg)
    r = post(client, f"/api/v1/agreements/{a.pk}/terminate", reg.worker, {"version": 1, "reason": ""})
    assert r.status_code == 400 and error(r) == "reason_required"
    r = post(client, f"/api/v1/agreements/{a.pk}/terminate", reg.worker_x, {"version": 1, "reason": "x"})
    assert r.status_code == 404
    r = post(client, f"/api/v1/agreements/{a.pk}/terminate", reg.worker, {"version": 1, "reason": "单位注销"})
    assert r.status_code == 200 and r.json()["status"] == "terminated" and r.json()["membership_status"] == "ended"
    r = post(client, f"/api/v1/agreements/{a.pk}/terminate", reg.worker, {"version": 2, "reason": "单位注销"})
    assert r.status_code == 409 and error(r) == "agreement_closed"
    assert only_entry("agreement.terminate").after["reason"] == "单位注销"


def test_renew_agreement(client, reg):
    a = unit_agreement(reg)
    r = post(client, f"/api/v1/agreements/{a.pk}/renew", reg.worker,
             {"version": 1, "number": "BN-2028-001", "ends_on": "2030-12-31", "duties": ["开放会议室"]})
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["number"], data["starts_on"], data["ends_on"], data["duties"], data["commitments"], data["renews"]) == (
        "BN-2028-001", "2028-01-01", "2030-12-31", ["开放会议室"], ["会议室每月 4 次"], a.pk)
    r = post(client, f"/api/v1/agreements/{a.pk}/renew", reg.worker,
             {"version": 1, "number": "BN-2028-002", "ends_on": "2030-12-31"})
    assert r.status_code == 409 and error(r) == "stale"
    r = post(client, f"/api/v1/agreements/{a.pk}/renew", reg.worker_x,
             {"version": 2, "number": "BN-2028-002", "ends_on": "2030-12-31"})
    assert r.status_code == 404
    assert Agreement.objects.count() == 2 and Membership.objects.get().status == "active"


def test_renewing_a_lapsed_agreement_brings_it_back(client, reg):
    a = unit_agreement(reg, starts_on="2020-01-01", ends_on="2021-12-31")
    services.agreements_expire(actor=reg.admin)
    r = post(client, f"/api/v1/agreements/{a.pk}/renew", reg.worker,
             {"version": 2, "number": "BN-2022-001", "ends_on": "2030-12-31"})
    assert r.status_code == 201 and r.json()["starts_on"] == "2022-01-01"


# ---- posts ----

def test_end_a_post(client, reg):
    p = secretary(reg)
    r = post(client, f"/api/v1/posts/{p.pk}/end", reg.worker, {"version": 1, "ends_on": "2023-01-01"})
    assert r.status_code == 400 and error(r) == "post_ends_before_start"
    r = post(client, f"/api/v1/posts/{p.pk}/end", reg.worker_x, {"version": 1})
    assert r.status_code == 404
    r = post(client, f"/api/v1/posts/{p.pk}/end", reg.grid_worker, {"version": 1})
    assert r.status_code == 403
    assert Post.objects.get().ends_on is None
    r = post(client, f"/api/v1/posts/{p.pk}/end", reg.worker, {"version": 1, "ends_on": "2025-06-30"})
    assert r.status_code == 200 and r.json()["ends_on"] == "2025-06-30" and r.json()["version"] == 2
    r = post(client, f"/api/v1/posts/{p.pk}/end", reg.worker, {"version": 1})
    assert r.status_code == 409 and error(r) == "stale"


def test_patch_a_post_term_keeps_the_single_holder_rule(client, reg):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    first = secretary(reg, ends_on="2026-01-01")
    secretary(reg, wang, starts_on="2026-01-01")
    r = patch(client, f"/api/v1/posts/{first.pk}", reg.worker, {"version": 1, "ends_on": None})
    assert r.status_code == 409 and error(r) == "post_taken"
    r = patch(client, f"/api/v1/posts/{first.pk}", reg.worker, {"version": 1, "starts_on": "2023-01-01"})
    assert r.status_code == 200 and r.json()["starts_on"] == "2023-01-01"
    assert Post.objects.get(pk=first.pk).ends_on == dt.date(2026, 1, 1)


def test_the_edit_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "patch" in paths["/api/v1/people/{person_id}"]
    assert "patch" in paths["/api/v1/organizations/{organization_id}"]
    assert "patch" in paths["/api/v1/agreements/{agreement_id}"]
    assert "post" in paths["/api/v1/agreements/{agreement_id}/terminate"]
    assert "201" in paths["/api/v1/agreements/{agreement_id}/renew"]["post"]["responses"]
    assert "post" in paths["/api/v1/posts/{post_id}/end"] and "patch" in paths["/api/v1/posts/{post_id}"]


def test_a_record_visible_but_not_editable_is_403(client, reg):
    # Auditor for the whole district (sees everything) and community worker at 北宁 (edits there only).
    both = user("both", ("auditor", reg.tree["district"]), ("community_worker", reg.tree["beining"]))
    r = patch(client, f"/api/v1/people/{reg.li.pk}", both, {"version": 1, "name": "李四四"})
    assert r.status_code == 403 and error(r) == "forbidden"
    r = patch(client, f"/api/v1/people/{reg.zhang.pk}", both, {"version": 1, "name": "张三丰"})
    assert r.status_code == 200
    assert Person.objects.get(pk=reg.li.pk).name == "李四"
