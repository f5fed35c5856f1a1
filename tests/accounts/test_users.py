"""Accounts: the doors of the user pages and API by role and scope, creating an account and
signing in with it, refusals that change nothing, deactivation, the ledger and query budgets.

The subject is 张三丰 (zhangsan, a resident at 北宁社区, 兴宁区): 兴宁's admin manages it, 青秀's does not.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.accounts import services
from gongzhi.accounts.models import ApiToken
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.org.models import Person
from tests.accounts.helpers import ACTORS, audit_text, bearer, login
from tests.factories import user

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "Secret-pass-2024"


def _new_user_post(**overrides):
    data = {"username": "newbie", "full_name": "新社工", "password": PASSWORD, "password2": PASSWORD,
            "role": "community_worker", "scope_kind": "place", "scope_code": "450102001004"}
    data.update(overrides)
    return data


# ---- the permission matrix of the pages ----

PAGE_MATRIX = {
    # door: {actor: expected}
    "list": {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": "blind", "admin": "sees"},
    "detail": {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": 404, "admin": "sees"},
    "create": {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": 403, "admin": "created"},
    "export": {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": "blind", "admin": "sees"},
    "deactivate": {"anonymous": "login", "resident": 403, "worker": 403, "far_admin": 404, "admin": "done"},
}


def _door(client, acc, door):
    subject = acc.subject
    if door == "list":
        r = client.get(reverse("accounts:users"))
        return r, r.content.decode()
    if door == "detail":
        r = client.get(reverse("accounts:user", args=[subject.pk]))
        return r, r.content.decode()
    if door == "create":
        r = client.post(reverse("accounts:user_create"), _new_user_post())
        return r, User.objects.filter(username="newbie").exists()
    if door == "export":
        r = client.get(reverse("accounts:users_export"))
        if r.status_code != 200 or not r["Content-Type"].startswith("application/vnd"):
            return r, ""
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        return r, " ".join(str(c.value) for row in ws.iter_rows() for c in row)
    if door == "deactivate":
        r = client.post(reverse("accounts:user_set_active", args=[subject.pk]), {"active": "0"})
        subject.refresh_from_db()
        return r, not subject.is_active
    raise AssertionError(door)


@pytest.mark.parametrize("door", list(PAGE_MATRIX))
@pytest.mark.parametrize("who", ACTORS)
def test_user_page_doors(client, acc, door, who):
    login(client, acc, who)
    expected = PAGE_MATRIX[door][who]
    r, seen = _door(client, acc, door)
    if expected == "login":
        assert r.status_code == 302 and r["Location"].startswith("/login/")
    elif expected in (403, 404):
        assert r.status_code == expected
        assert seen in (False, "") or "张三丰" not in seen
    elif expected == "blind":
        assert r.status_code == 200 and "张三丰" not in seen and "zhangsan" not in seen
    elif expected == "sees":
        assert r.status_code == 200 and "张三丰" in seen
    elif expected in ("created", "done"):
        assert r.status_code == 302 and seen is True
    else:
        raise AssertionError(expected)
    if expected not in ("created", "done"):
        assert not User.objects.filter(username="newbie").exists()
        assert User.objects.get(pk=acc.subject.pk).is_active


API_MATRIX = {
    "list": {"anonymous": 401, "resident": 403, "worker": 403, "far_admin": "blind", "admin": "sees"},
    "create": {"anonymous": 401, "resident": 403, "worker": 403, "far_admin": 403, "admin": 201},
}


@pytest.mark.parametrize("door", list(API_MATRIX))
@pytest.mark.parametrize("who", ACTORS)
def test_user_api_doors(client, acc, door, who):
    u = None if who == "anonymous" else getattr(acc, who)
    headers = bearer(u) if u else {}
    expected = API_MATRIX[door][who]
    if door == "list":
        r = client.get("/api/v1/users", **headers)
    else:
        r = client.post("/api/v1/users", {"username": "newbie", "full_name": "新社工", "password": PASSWORD,
                                          "role": "community_worker", "scope_kind": "place",
                                          "scope_code": "450102001004"},
                        content_type="application/json", **headers)
    if expected == "blind":
        assert r.status_code == 200
        assert "zhangsan" not in {i["username"] for i in r.json()["items"]}
    elif expected == "sees":
        assert r.status_code == 200
        assert "zhangsan" in {i["username"] for i in r.json()["items"]}
    else:
        assert r.status_code == expected, r.content
        if expected != 201:
            assert set(r.json()["error"]) >= {"code", "message"}
    assert User.objects.filter(username="newbie").exists() is (expected == 201)


# ---- creating an account ----

def test_an_admin_creates_an_account_that_can_sign_in(client, acc):
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:user_create"), _new_user_post())
    new = User.objects.get(username="newbie")
    assert r.status_code == 302 and r["Location"] == reverse("accounts:user", args=[new.pk])
    assert new.first_name == "新社工" and new.is_active and new.check_password(PASSWORD)
    assert list(new.role_assignments.values_list("role", "place__code")) == [("community_worker", "450102001004")]
    page = client.get(r["Location"]).content.decode()
    assert "新社工" in page and "北宁社区" in page

    client.logout()
    r = client.post("/login/", {"username": "newbie", "password": PASSWORD})
    assert r.status_code == 302
    home = client.get("/").content.decode()
    assert "新社工" in home and "社区工作者" in home


def test_creating_an_account_is_audited_without_the_password(client, acc):
    client.force_login(acc.admin)
    client.post(reverse("accounts:user_create"), _new_user_post())
    new = User.objects.get(username="newbie")
    entries = {e.action: e for e in AuditEntry.objects.filter(actor=acc.admin)}
    assert entries["user.create"].object_id == str(new.pk)
    assert entries["user.create"].after == {"username": "newbie", "full_name": "新社工", "is_active": True,
                                            "person": None}
    assert entries["role.assign"].after["role"] == "community_worker"
    text = audit_text()
    assert PASSWORD not in text and new.password not in text and "password" not in text


@pytest.mark.parametrize("overrides, message", [
    ({"username": "ab"}, "3–30 个字符"),
    ({"username": "Wang Wei"}, "小写字母"),
    ({"username": "a" * 31}, "3–30 个字符"),
    ({"username": "admin"}, "已被使用"),
    ({"username": "ADMIN"}, "小写字母"),
    ({"password": "short", "password2": "short"}, "密码"),
    ({"password2": "something-else"}, "两次输入的密码不一致"),
    ({"full_name": "  "}, "姓名"),
    ({"scope_code": "999999999999"}, "区划代码 999999999999 不存在"),
    ({"scope_kind": "grid", "scope_code": "nope"}, "网格编码 nope 不存在"),
    ({"role": "", "scope_code": ""}, "关联您范围内的一名人员"),
    ({"role": "district_admin", "scope_code": "450100000000"}, "高于或不在您的管理范围内"),
])
def test_bad_input_shows_a_message_and_creates_nothing(client, acc, overrides, message):
    client.force_login(acc.admin)
    users_before, audit_before = User.objects.count(), AuditEntry.objects.count()
    r = client.post(reverse("accounts:user_create"), _new_user_post(**overrides))
    assert r.status_code in (400, 403, 409)
    assert message in r.content.decode()
    assert User.objects.count() == users_before and AuditEntry.objects.count() == audit_before
    assert PASSWORD not in r.content.decode()  # a refused form never echoes the password back


def test_the_api_refuses_bad_input_with_the_error_shape(client, acc):
    h = bearer(acc.admin)
    cases = [
        ({"username": "x", "full_name": "某", "password": PASSWORD, "role": "resident",
          "scope_code": "450102001004"}, 400, "bad_username"),
        ({"username": "okname", "full_name": "某", "password": "1", "role": "resident",
          "scope_code": "450102001004"}, 400, "bad_password"),
        ({"username": "resident", "full_name": "某", "password": PASSWORD, "role": "resident",
          "scope_code": "450102001004"}, 409, "duplicate_username"),
        ({"username": "okname", "full_name": "某", "password": PASSWORD, "role": "boss",
          "scope_code": "450102001004"}, 400, "bad_role"),
        ({"username": "okname", "full_name": "某", "password": PASSWORD}, 400, "needs_scope"),
        ({"username": "okname", "full_name": "某", "password": PASSWORD, "role": "resident",
          "scope_code": "450103001001"}, 403, "scope_outside"),
        ({"username": "okname"}, 400, "invalid_input"),
    ]
    before = User.objects.count()
    for body, status, code in cases:
        r = client.post("/api/v1/users", body, content_type="application/json", **h)
        assert r.status_code == status, (body, r.content)
        assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert User.objects.count() == before


def test_an_account_can_be_linked_to_a_person_in_scope_only(client, acc):
    mine = Person.objects.create(name="王五", registered_community=acc.tree["beining"])
    theirs = Person.objects.create(name="赵六", registered_community=acc.taoyuan)
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:user_create"), _new_user_post(username="wangwu", role="", scope_code="",
                                                                     person_id=theirs.pk))
    assert r.status_code == 400 and "不在您的范围内" in r.content.decode()
    assert not User.objects.filter(username="wangwu").exists()

    r = client.post(reverse("accounts:user_create"), _new_user_post(username="wangwu", role="", scope_code="",
                                                                     person_id=mine.pk))
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.user.username == "wangwu"
    # Linked to a person in scope and holding no role: still the admin's to manage.
    assert "wangwu" in client.get(reverse("accounts:users")).content.decode()

    # The person already has an account: a second link is refused.
    with pytest.raises(Conflict, match="已关联其他账号"):
        services.user_create(actor=acc.admin, username="wangwu2", full_name="王五", password=PASSWORD, person=mine)
    assert not User.objects.filter(username="wangwu2").exists()


def test_the_api_creates_an_account_with_a_person_and_answers_404_for_a_foreign_person(client, acc):
    mine = Person.objects.create(name="王五", registered_community=acc.tree["beining"])
    theirs = Person.objects.create(name="赵六", registered_community=acc.taoyuan)
    h = bearer(acc.admin)
    r = client.post("/api/v1/users", {"username": "zhao", "full_name": "赵六", "password": PASSWORD,
                                      "person_id": theirs.pk}, content_type="application/json", **h)
    assert r.status_code == 404
    r = client.post("/api/v1/users", {"username": "wang5", "full_name": "王五", "password": PASSWORD,
                                      "person_id": mine.pk}, content_type="application/json", **h)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["username"] == "wang5" and body["person_id"] == mine.pk and body["roles"] == []
    assert PASSWORD not in r.content.decode()


# ---- the list: scope, search, pagination, ledger, query budget ----

def test_the_list_searches_and_shows_only_roles_in_scope(client, acc):
    both = user("both", ("resident", acc.taoyuan), ("community_worker", acc.tree["xingning"]), first_name="两地人")
    client.force_login(acc.admin)
    page = client.get(reverse("accounts:users"), {"q": "两地"}).content.decode()
    assert "both" in page and "兴宁社区" in page and "桃源社区" not in page and "另有 1 个范围外角色" in page
    assert "worker" not in page
    detail = client.get(reverse("accounts:user", args=[both.pk])).content.decode()
    assert "兴宁社区" in detail and "桃源社区" not in detail and "另有 1 个角色在您的管理范围之外" in detail


def test_the_list_pages_by_keyset_with_a_fixed_query_count(client, acc, django_assert_max_num_queries):
    for i in range(55):
        user(f"bulk{i:02d}", ("resident", acc.tree["xingning"]))
    client.force_login(acc.admin)
    with django_assert_max_num_queries(8):
        r = client.get(reverse("accounts:users"))
    first = r.content.decode()
    assert first.count('data-testid="user-row"') == 50 and 'rel="next"' in first
    after = r.context["next_params"]
    second = client.get(reverse("accounts:users") + "?" + after).content.decode()
    assert second.count('data-testid="user-row"') == 55 + 4 - 50  # admin, worker, resident, zhangsan, 55 more
    assert "bulk54" in second and "bulk00" not in second

    h = bearer(acc.admin)
    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/users", {"limit": 20}, **h)
    body = r.json()
    assert len(body["items"]) == 20 and body["next_after"] == body["items"][-1]["id"]
    seen = [i["username"] for i in body["items"]]
    while body["next_after"]:
        body = client.get("/api/v1/users", {"limit": 20, "after": body["next_after"]}, **h).json()
        seen += [i["username"] for i in body["items"]]
    assert len(seen) == len(set(seen)) == 59
    assert "far_admin" not in seen and "far_worker" not in seen


def test_the_ledger_lists_accounts_with_roles_status_and_last_login(client, acc):
    acc.resident.is_active = False
    acc.resident.save()
    client.force_login(acc.admin)
    r = client.get(reverse("accounts:users_export"))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["用户名", "姓名", "角色（范围）", "状态", "最后登录"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"admin", "worker", "resident", "zhangsan"}
    assert by_name["resident"][1:4] == ["北宁居民", "居民@北宁社区", "停用"]
    assert by_name["admin"][3] == "启用" and by_name["admin"][4]  # force_login stamped last_login
    text = " ".join(str(v) for row in rows for v in row)
    assert "md5$" not in text and "pbkdf2" not in text


# ---- activate / deactivate ----

def test_deactivating_revokes_tokens_and_bars_sign_in(client, acc):
    headers = bearer(acc.worker)
    assert client.get("/api/v1/me", **headers).status_code == 200
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:user_set_active", args=[acc.worker.pk]), {"active": "0"})
    assert r.status_code == 302
    acc.worker.refresh_from_db()
    assert not acc.worker.is_active
    assert not ApiToken.objects.filter(user=acc.worker, revoked_at__isnull=True).exists()
    client.logout()
    r = client.get("/api/v1/me", **headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert not client.login(username="worker", password="test-pass-123")
    entry = AuditEntry.objects.get(action="user.deactivate")
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False, "tokens_revoked": 1}

    # Reactivating lets them sign in again; old tokens stay revoked.
    client.force_login(acc.admin)
    client.post(reverse("accounts:user_set_active", args=[acc.worker.pk]), {"active": "1"})
    client.logout()
    assert client.login(username="worker", password="test-pass-123")
    assert client.get("/api/v1/me", **headers).status_code == 200  # by session now, not by the old token
    client.logout()
    assert client.get("/api/v1/me", **headers).status_code == 401


def test_a_deactivated_session_is_signed_out(client, acc):
    client.force_login(acc.worker)
    assert client.get("/org/people/").status_code == 200
    services.user_set_active(actor=acc.admin, user=acc.worker, active=False)
    r = client.get("/org/people/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_deactivation_refusals(client, acc):
    # Not yourself, not an account that also works outside your scope, not someone else's district.
    with pytest.raises(ValidationFailed, match="不能停用您自己的账号"):
        services.user_set_active(actor=acc.admin, user=acc.admin, active=False)
    both = user("both", ("resident", acc.taoyuan), ("community_worker", acc.tree["xingning"]))
    with pytest.raises(PermissionDenied):
        services.user_set_active(actor=acc.admin, user=both, active=False)
    with pytest.raises(NotFound):
        services.user_set_active(actor=acc.far_admin, user=acc.worker, active=False)
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:user_set_active", args=[both.pk]), {"active": "0"})
    assert r.status_code == 403 and "上级管理员" in r.content.decode()
    assert User.objects.filter(is_active=False).count() == 0
    assert not AuditEntry.objects.filter(action="user.deactivate").exists()


def test_the_api_deactivates_with_the_same_rules(client, acc):
    h = bearer(acc.admin)
    r = client.post(f"/api/v1/users/{acc.worker.pk}/active", {"active": False}, content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = client.post(f"/api/v1/users/{acc.far_worker.pk}/active", {"active": False},
                    content_type="application/json", **h)
    assert r.status_code == 404
    assert User.objects.get(pk=acc.far_worker.pk).is_active


def test_navigation_shows_account_pages_by_role(client, acc):
    client.force_login(acc.admin)
    page = client.get("/").content.decode()
    assert 'href="/accounts/users/"' in page and 'href="/accounts/tokens/"' in page
    client.force_login(acc.resident)
    page = client.get("/").content.decode()
    # API tokens serve staff integrations: a resident is not offered them (issue 14).
    assert 'href="/accounts/users/"' not in page and 'href="/accounts/tokens/"' not in page
    client.logout()
    assert 'href="/accounts/tokens/"' not in client.get("/").content.decode()


def test_the_account_endpoints_are_in_the_openapi_spec(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/users", "/api/v1/users/{user_id}/roles", "/api/v1/role-assignments/{assignment_id}",
            "/api/v1/tokens", "/api/v1/tokens/{token_id}"} <= set(paths)
    assert set(paths["/api/v1/tokens"]) == {"get", "post"}
