"""Password guessing: the login page locks an account name and a client address after a few
failures (django-axes), says so, and a district administrator can lift it; token creation is
limited the same way."""

import pytest
from django.urls import reverse

from gongzhi.core.models import AuditEntry
from tests.factories import PASSWORD

LOCKED = "登录失败次数过多"
WRONG = "用户名或密码不正确"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.TOKEN_CREATE_LIMIT = 3


def attempt(client, username, password, addr="10.0.0.1", **extra):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=addr, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_then_the_right_one_is_refused_with_the_message(client, acc):
    for i in range(4):
        r = attempt(client, "worker", f"wrong-{i}")
        assert r.status_code == 200 and WRONG in r.content.decode()
    r = attempt(client, "worker", "wrong-4")
    assert r.status_code == 429 and LOCKED in r.content.decode()
    assert int(r["Retry-After"]) == 15 * 60
    r = attempt(client, "worker", PASSWORD)
    assert r.status_code == 429 and LOCKED in r.content.decode()
    assert not signed_in(client)


def test_the_lockout_message_is_in_english_too(client, acc):
    client.cookies["django_language"] = "en"
    for i in range(5):
        attempt(client, "worker", f"wrong-{i}")
    r = attempt(client, "worker", PASSWORD)
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.content.decode() and LOCKED not in r.content.decode()


def test_the_account_is_locked_from_every_address(client, acc):
    for i in range(5):
        attempt(client, "worker", f"wrong-{i}", addr=f"10.0.1.{i}")
    r = attempt(client, "worker", PASSWORD, addr="10.0.9.9")
    assert r.status_code == 429 and not signed_in(client)


def test_many_accounts_from_one_address_lock_the_address(client, acc):
    for name in ["resident", "zhangsan", "far_worker", "admin", "far_admin"]:
        attempt(client, name, "wrong-password", addr="10.0.0.66")
    r = attempt(client, "worker", PASSWORD, addr="10.0.0.66")
    assert r.status_code == 429 and LOCKED in r.content.decode() and not signed_in(client)
    # The same account from another address is fine: only the address was guessing.
    r = attempt(client, "worker", PASSWORD, addr="10.0.0.67")
    assert r.status_code == 302 and signed_in(client)


def test_the_lockout_does_not_leak_whether_the_account_exists(client, acc):
    def run(name, addr):
        out = []
        for i in range(6):
            r = attempt(client, name, f"wrong-{i}", addr=addr)
            out.append((r.status_code, r.content.decode().replace(name, "NAME")))
        return out

    real, made_up = run("worker", "10.0.2.1"), run("nosuchperson", "10.0.2.2")
    assert [s for s, _b in real] == [s for s, _b in made_up] == [200] * 4 + [429] * 2
    strip = lambda body: body.split('name="csrfmiddlewaretoken" value="')[0]  # noqa: E731
    assert [strip(b) for _s, b in real] == [strip(b) for _s, b in made_up]


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_lock(client, acc):
    for i in range(5):
        attempt(client, f"name{i}", "wrong-password", addr="10.0.3.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    r = attempt(client, "worker", PASSWORD, addr="10.0.3.1", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert r.status_code == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(client, acc, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.4.1"
    for i in range(5):  # the client forges a left-hand entry; the proxy appends what it saw
        attempt(client, f"name{i}", "wrong-password", addr=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.7")
    r = attempt(client, "worker", PASSWORD, addr=proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7")
    assert r.status_code == 429
    # Another client behind the same proxy is not locked out with the guesser.
    r = attempt(client, "worker", PASSWORD, addr=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert r.status_code == 302 and signed_in(client)


def lock_worker(client, addr="10.0.5.1"):
    for i in range(5):
        attempt(client, "worker", f"wrong-{i}", addr=addr)
    assert attempt(client, "worker", PASSWORD, addr=addr).status_code == 429


def test_a_district_admin_unlocks_the_account_and_it_signs_in(client, acc):
    lock_worker(client)
    staff = client_for(acc.admin)
    r = staff.get(reverse("accounts:lockouts"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "worker" in body and "10.0.5.1" in body
    r = staff.post(reverse("accounts:lockouts"), {"kind": "username", "value": "worker"})
    assert r.status_code == 302
    entry = AuditEntry.objects.get(action="login.unlock")
    assert entry.actor == acc.admin and entry.after["username"] == "worker" and entry.after["failures_cleared"] >= 1
    r = attempt(client, "worker", PASSWORD, addr="10.0.5.1")
    assert r.status_code == 302 and signed_in(client)


def test_an_address_is_unlocked_by_an_admin(client, acc):
    for name in ["a1", "a2", "a3", "a4", "a5"]:
        attempt(client, name, "wrong-password", addr="10.0.6.1")
    staff = client_for(acc.admin)
    assert "10.0.6.1" in staff.get(reverse("accounts:lockouts")).content.decode()
    assert staff.post(reverse("accounts:lockouts"), {"kind": "ip_address", "value": "10.0.6.1"}).status_code == 302
    assert attempt(client, "worker", PASSWORD, addr="10.0.6.1").status_code == 302


def test_another_districts_admin_neither_sees_nor_unlocks_the_account(client, acc):
    lock_worker(client)
    far = client_for(acc.far_admin)
    r = far.get(reverse("accounts:lockouts"))
    assert r.status_code == 200 and "data-testid=\"locked-username\"" not in r.content.decode()
    r = far.post(reverse("accounts:lockouts"), {"kind": "username", "value": "worker"})
    assert r.status_code == 404
    assert not AuditEntry.objects.filter(action="login.unlock").exists()
    assert attempt(client, "worker", PASSWORD, addr="10.0.5.1").status_code == 429


@pytest.mark.parametrize("who", ["resident", "worker"])
def test_only_account_administrators_open_the_unlock_page(client, acc, who):
    c = client_for(getattr(acc, who))
    assert c.get(reverse("accounts:lockouts")).status_code == 403
    assert c.post(reverse("accounts:lockouts"), {"kind": "username", "value": "worker"}).status_code == 403


def test_unlocking_what_is_not_locked_says_so(client, acc):
    r = client_for(acc.admin).post(reverse("accounts:lockouts"), {"kind": "username", "value": "worker"})
    assert r.status_code == 404 and "没有被锁定" in r.content.decode()


def client_for(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


# ---- token creation ----

def test_the_api_limits_token_creation_with_429_and_retry_after(client, acc):
    client.force_login(acc.worker)
    for _i in range(3):
        r = client.post("/api/v1/tokens", {"name": "app"}, content_type="application/json")
        assert r.status_code == 201
    r = client.post("/api/v1/tokens", {"name": "app"}, content_type="application/json")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "too_many_tokens"
    assert 0 < int(r["Retry-After"]) <= 15 * 60 + 1
    from gongzhi.accounts.models import ApiToken

    assert ApiToken.objects.filter(user=acc.worker).count() == 3


def test_the_token_page_limits_creation_too(client, acc):
    client.force_login(acc.worker)
    for _i in range(3):
        assert client.post(reverse("accounts:tokens"), {"name": "app"}).status_code == 200
    r = client.post(reverse("accounts:tokens"), {"name": "app"})
    assert r.status_code == 429 and "令牌过多" in r.content.decode() and int(r["Retry-After"]) > 0


def test_the_operator_command_is_not_limited(acc):
    from django.core.management import call_command

    for _i in range(5):
        call_command("create_token", "worker")
