"""Role assignments: granting and revoking change what /api/v1/me reports; grants are refused
outside the granter's scope (district admin and auditor never above it); every change is audited.
"""

import pytest
from django.urls import reverse

from gongzhi.accounts import services
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.org.models import Organization
from tests.accounts.helpers import ACTORS, bearer, login, me
from tests.factories import grid_tree, user

pytestmark = pytest.mark.django_db


def _roles(client, headers) -> set[tuple[str, str]]:
    return {(r["role"], r["scope_kind"]) for r in me(client, headers)["roles"]}


# ---- the permission matrix ----

GRANT_MATRIX = {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": 404, "admin": "granted"}


@pytest.mark.parametrize("who", ACTORS)
def test_grant_page_door(client, acc, who):
    login(client, acc, who)
    r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                    {"role": "party_member", "scope_kind": "place", "scope_code": "450102001004"})
    expected = GRANT_MATRIX[who]
    granted = RoleAssignment.objects.filter(user=acc.subject, role="party_member").exists()
    if expected == "login":
        assert r.status_code == 302 and r["Location"].startswith("/login/")
    elif expected == "granted":
        assert r.status_code == 302
    else:
        assert r.status_code == expected
    assert granted is (expected == "granted")


@pytest.mark.parametrize("who", ACTORS)
def test_role_api_doors(client, acc, who):
    u = None if who == "anonymous" else getattr(acc, who)
    h = bearer(u) if u else {}
    ra = RoleAssignment.objects.get(user=acc.subject)
    expected = {"anonymous": 401, "resident": 403, "worker": 403, "far_admin": 404, "admin": None}[who]
    r = client.post(f"/api/v1/users/{acc.subject.pk}/roles",
                    {"role": "party_member", "scope_kind": "place", "scope_code": "450102001004"},
                    content_type="application/json", **h)
    assert r.status_code == (expected or 201), r.content
    d = client.delete(f"/api/v1/role-assignments/{ra.pk}", **h)
    assert d.status_code == (expected or 204), d.content
    if expected:
        assert set(r.json()["error"]) >= {"code", "message"}
        assert list(RoleAssignment.objects.filter(user=acc.subject).values_list("role", flat=True)) == ["resident"]
    else:
        assert list(RoleAssignment.objects.filter(user=acc.subject).values_list("role", flat=True)) == ["party_member"]


# ---- granting and revoking change what the user may do ----

def test_granting_and_revoking_on_the_page_change_what_me_reports(client, acc):
    headers = bearer(acc.subject)
    assert _roles(client, headers) == {("resident", "place")}
    assert "registry.view" not in me(client, headers)["actions"]

    client.force_login(acc.admin)
    r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                    {"role": "community_worker", "scope_kind": "place", "scope_code": "450102001004"})
    assert r.status_code == 302
    assert "已授予 zhangsan「社区工作者」角色" in client.get(r["Location"]).content.decode()
    client.logout()
    now = me(client, headers)
    assert ("community_worker", "place") in {(x["role"], x["scope_kind"]) for x in now["roles"]}
    assert {"registry.view", "registry.edit", "person.unmask"} <= set(now["actions"])

    ra = RoleAssignment.objects.get(user=acc.subject, role="community_worker")
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:role_revoke", args=[ra.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("accounts:user", args=[acc.subject.pk])
    client.logout()
    assert _roles(client, headers) == {("resident", "place")}
    assert "registry.edit" not in me(client, headers)["actions"]


def test_granting_and_revoking_by_api(client, acc):
    top, micros = grid_tree(acc.tree["beining"], 108.32, 22.82)
    unit = Organization.objects.create(kind="private_enterprise", name="北宁汽配", place=acc.tree["beining"])
    h, sub = bearer(acc.admin), bearer(acc.subject)
    r = client.post(f"/api/v1/users/{acc.subject.pk}/roles",
                    {"role": "grid_worker", "scope_kind": "grid", "scope_code": micros[0].code},
                    content_type="application/json", **h)
    assert r.status_code == 201, r.content
    assert r.json()["scope"] == {"kind": "grid", "id": micros[0].pk, "code": micros[0].code, "name": micros[0].name}
    r2 = client.post(f"/api/v1/users/{acc.subject.pk}/roles",
                     {"role": "unit_liaison", "scope_kind": "organization", "scope_code": str(unit.pk)},
                     content_type="application/json", **h)
    assert r2.status_code == 201 and r2.json()["scope"]["kind"] == "organization"
    assert _roles(client, sub) == {("resident", "place"), ("grid_worker", "grid"), ("unit_liaison", "org")}

    assert client.delete(f"/api/v1/role-assignments/{r.json()['id']}", **h).status_code == 204
    assert _roles(client, sub) == {("resident", "place"), ("unit_liaison", "org")}
    # Gone is gone: a second revoke finds nothing.
    assert client.delete(f"/api/v1/role-assignments/{r.json()['id']}", **h).status_code == 404


def test_every_grant_and_revoke_is_audited(acc):
    ra = services.role_assign(actor=acc.admin, user=acc.subject, role="party_member", place=acc.tree["beining"])
    services.role_revoke(actor=acc.admin, assignment=ra)
    grant = AuditEntry.objects.get(action="role.assign", object_id=str(ra.pk))
    revoke = AuditEntry.objects.get(action="role.revoke", object_id=str(ra.pk))
    record = {"user": "zhangsan", "role": "party_member", "scope_kind": "place", "scope_code": "450102001004",
              "scope": "北宁社区"}
    assert grant.actor == acc.admin and grant.before is None and grant.after == record
    assert revoke.actor == acc.admin and revoke.before == record and revoke.after is None


# ---- refusals ----

def test_no_grant_outside_the_granters_scope(client, acc):
    client.force_login(acc.admin)
    for role, code, message in [
        ("community_worker", "450103001001", "「桃源社区」不在您的管理范围内"),
        ("district_admin", "450100000000", "不能授予「区委/组织部」角色：「南宁市」高于或不在您的管理范围内"),
        ("auditor", "450103000000", "不能授予「审计/纪检」角色：「青秀区」高于或不在您的管理范围内"),
    ]:
        r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]),
                        {"role": role, "scope_kind": "place", "scope_code": code})
        assert r.status_code == 403
        assert message in r.content.decode()
    assert list(RoleAssignment.objects.filter(user=acc.subject).values_list("role", flat=True)) == ["resident"]
    assert not AuditEntry.objects.filter(action="role.assign").exists()


def test_an_admin_may_grant_admin_and_auditor_at_or_below_their_own_scope(acc):
    services.role_assign(actor=acc.admin, user=acc.subject, role="district_admin", place=acc.tree["district"])
    services.role_assign(actor=acc.admin, user=acc.subject, role="auditor", place=acc.tree["street"])
    assert set(RoleAssignment.objects.filter(user=acc.subject).values_list("role", flat=True)) == {
        "resident", "district_admin", "auditor"}


def test_another_districts_admin_cannot_reach_these_accounts_or_places(client, acc):
    ra = RoleAssignment.objects.get(user=acc.subject)
    with pytest.raises(PermissionDenied):
        services.role_assign(actor=acc.far_admin, user=acc.far_worker, role="resident", place=acc.tree["beining"])
    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=acc.far_admin, assignment=ra)
    client.force_login(acc.far_admin)
    assert client.post(reverse("accounts:role_revoke", args=[ra.pk])).status_code == 404
    assert client.get(reverse("accounts:user", args=[acc.subject.pk])).status_code == 404
    # Granting a 兴宁 role to their own worker is refused with a message, not a 404: the account is theirs.
    r = client.post(reverse("accounts:role_grant", args=[acc.far_worker.pk]),
                    {"role": "resident", "scope_kind": "place", "scope_code": "450102001004"})
    assert r.status_code == 403 and "不在您的管理范围内" in r.content.decode()
    assert RoleAssignment.objects.filter(pk=ra.pk).exists()
    assert RoleAssignment.objects.filter(user=acc.far_worker).count() == 1


def test_bad_grants_show_a_message(client, acc):
    client.force_login(acc.admin)
    services.role_assign(actor=acc.admin, user=acc.subject, role="party_member", place=acc.tree["beining"])
    for data, status, message in [
        ({"role": "party_member", "scope_kind": "place", "scope_code": "450102001004"}, 409, "已在「北宁社区」担任「党员」"),
        ({"role": "resident", "scope_kind": "grid", "scope_code": "450102001004999"}, 400, "网格编码 450102001004999 不存在"),
        ({"role": "resident", "scope_kind": "organization", "scope_code": "abc"}, 400, "组织编号 abc 不存在"),
        ({"role": "resident", "scope_kind": "place", "scope_code": ""}, 400, "field-error"),
        ({"role": "", "scope_kind": "place", "scope_code": "450102001004"}, 400, "field-error"),
    ]:
        before = RoleAssignment.objects.count()
        r = client.post(reverse("accounts:role_grant", args=[acc.subject.pk]), data)
        assert r.status_code == status, data
        assert message in r.content.decode(), data
        assert RoleAssignment.objects.count() == before


def test_service_refusals(acc):
    with pytest.raises(ValidationFailed):
        services.role_assign(actor=acc.admin, user=acc.subject, role="boss", place=acc.tree["beining"])
    with pytest.raises(ValidationFailed):
        services.role_assign(actor=acc.admin, user=acc.subject, role="resident")
    with pytest.raises(Conflict):
        services.role_assign(actor=acc.admin, user=acc.subject, role="resident", place=acc.tree["beining"])
    own = RoleAssignment.objects.get(user=acc.admin)
    with pytest.raises(ValidationFailed, match="不能撤销您自己的管理角色"):
        services.role_revoke(actor=acc.admin, assignment=own)
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_revoking_the_last_link_returns_to_the_list(client, acc):
    loner = user("loner", ("resident", acc.tree["xingning"]))
    ra = RoleAssignment.objects.get(user=loner)
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:role_revoke", args=[ra.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("accounts:users")
    assert not RoleAssignment.objects.filter(user=loner).exists()
