"""Password strength on every door that sets one (Django's similarity, common-password and numeric
validators besides the length), and nobody grants roles to themselves."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts import services
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db
User = get_user_model()

# Each long enough for the length rule; each refused by exactly one of the other three validators.
WEAK = [
    ("password123", "常见"),  # Django's list of common passwords
    ("8462917305", "只包含数字"),  # all digits
    ("zhaoliuliu", "太相似"),  # the username itself, near enough
]


def _api_body(password):
    return {"username": "zhaoliuliu", "full_name": "赵六", "password": password, "role": "resident",
            "scope_kind": "place", "scope_code": "450102001004"}


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_the_api_refuses_a_weak_password_and_creates_nothing(client, acc, password, message):
    r = client.post("/api/v1/users", _api_body(password), content_type="application/json", **bearer(acc.admin))
    assert r.status_code == 400, r.content
    err = r.json()["error"]
    assert err["code"] == "bad_password" and message in err["message"]
    assert not User.objects.filter(username="zhaoliuliu").exists()


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_the_page_refuses_a_weak_password_and_creates_nothing(client, acc, password, message):
    client.force_login(acc.admin)
    data = {**_api_body(password), "password2": password}
    r = client.post(reverse("accounts:user_create"), data)
    assert r.status_code == 400 and message in r.content.decode()
    assert not User.objects.filter(username="zhaoliuliu").exists()


def test_the_api_says_why_in_english_too(client, acc):
    r = client.post("/api/v1/users", _api_body("password123"), content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="en", **bearer(acc.admin))
    assert r.status_code == 400 and "too common" in r.json()["error"]["message"]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_the_service_refuses_a_weak_password_for_the_command_line_too(acc, password, message):
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=None, username="zhaoliuliu", full_name="赵六", password=password,
                             role="resident", place=acc.tree["beining"])
    assert message in str(exc.value.message)


def test_the_demo_password_passes_the_validators_for_every_demo_account():
    from gongzhi.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

    for username, full_name, *_rest in DEMO_ACCOUNTS:
        validate_password(DEMO_PASSWORD, User(username=username, first_name=full_name))


# ---- nobody grants roles to themselves ----

def test_a_district_admin_cannot_grant_themselves_a_role_by_api(client, acc):
    before = set(RoleAssignment.objects.filter(user=acc.admin).values_list("role", flat=True))
    r = client.post(f"/api/v1/users/{acc.admin.pk}/roles",
                    {"role": "auditor", "scope_kind": "place", "scope_code": acc.tree["district"].code},
                    content_type="application/json", **bearer(acc.admin))
    assert r.status_code == 403, r.content
    assert r.json()["error"]["code"] == "self_grant" and "不能给自己授予角色" in r.json()["error"]["message"]
    assert set(RoleAssignment.objects.filter(user=acc.admin).values_list("role", flat=True)) == before
    assert not AuditEntry.objects.filter(action="role.assign", after__user="admin").exists()


def test_a_district_admin_cannot_grant_themselves_a_role_on_the_page(client, acc):
    client.force_login(acc.admin)
    r = client.post(reverse("accounts:role_grant", args=[acc.admin.pk]),
                    {"role": "community_worker", "scope_kind": "place", "scope_code": "450102001004"})
    assert r.status_code == 403 and "不能给自己授予角色" in r.content.decode()
    assert not RoleAssignment.objects.filter(user=acc.admin, role="community_worker").exists()


def test_even_a_superuser_grants_no_role_to_themselves(acc):
    boss = User.objects.create_superuser("boss", password="Boss-pass-2024x")
    with pytest.raises(PermissionDenied):
        services.role_assign(actor=boss, user=boss, role="district_admin", place=acc.tree["district"])
    # Granting to someone else still works.
    services.role_assign(actor=acc.admin, user=acc.subject, role="party_member", place=acc.tree["beining"])


def test_the_staff_admin_refuses_a_role_for_oneself_too(client, acc):
    boss = User.objects.create_superuser("boss", password="Boss-pass-2024x")
    client.force_login(boss)
    r = client.post("/admin/accounts/roleassignment/add/",
                    {"user": boss.pk, "role": "district_admin", "place": acc.tree["district"].pk})
    assert r.status_code == 200 and "不能给自己授予角色" in r.content.decode()
    assert not RoleAssignment.objects.filter(user=boss).exists()
    r = client.post("/admin/accounts/roleassignment/add/",
                    {"user": acc.subject.pk, "role": "party_member", "place": acc.tree["beining"].pk})
    assert r.status_code == 302 and RoleAssignment.objects.filter(user=acc.subject, role="party_member").exists()
