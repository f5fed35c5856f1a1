"""My API tokens: the page shows a new token exactly once and only its prefix afterwards; tokens are
revoked by their owner (or an administrator over the owner); the API does the same; the audit
trail keeps prefixes, never keys. Also the staff admin: the evidence tables are read-only.
"""

import re

import pytest
from django.urls import reverse

from gongzhi.accounts.models import ApiToken, RoleAssignment
from gongzhi.core.models import AuditEntry, PiiAccess
from tests.accounts.helpers import audit_text, bearer
from tests.factories import grid_tree

pytestmark = pytest.mark.django_db
KEY_RE = re.compile(r"gz_[A-Za-z0-9_-]{40,}")


def test_the_token_page_needs_a_sign_in(client):
    r = client.get(reverse("accounts:tokens"))
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client.post(reverse("accounts:tokens"), {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()
    assert client.get("/api/v1/tokens").status_code == 401
    assert client.post("/api/v1/tokens", {}, content_type="application/json").status_code == 401


def test_a_new_token_is_shown_exactly_once_then_only_its_prefix(client, acc):
    client.force_login(acc.far_worker)  # staff; residents use tokens through the API only
    r = client.post(reverse("accounts:tokens"), {"name": "巡查 App"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    page = r.content.decode()
    keys = KEY_RE.findall(page)
    assert len(keys) == 1 and "只显示这一次" in page
    key = keys[0]
    tok = ApiToken.objects.get(user=acc.far_worker)
    assert tok.name == "巡查 App" and tok.prefix == key[:8] and tok.key_hash != key

    later = client.get(reverse("accounts:tokens")).content.decode()
    assert key not in later and not KEY_RE.search(later)
    assert f"{tok.prefix}…" in later and "巡查 App" in later and "从未使用" in later

    client.logout()
    assert me_username(client, key) == "far_worker"
    client.force_login(acc.far_worker)
    assert "从未使用" not in client.get(reverse("accounts:tokens")).content.decode()  # last use recorded


def me_username(client, key):
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    return r.json()["username"] if r.status_code == 200 else r.status_code


def test_revoking_on_the_page_ends_the_token(client, acc):
    client.force_login(acc.worker)
    key = KEY_RE.findall(client.post(reverse("accounts:tokens"), {"name": "脚本"}).content.decode())[0]
    tok = ApiToken.objects.get(user=acc.worker)
    r = client.post(reverse("accounts:token_revoke", args=[tok.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("accounts:tokens")
    page = client.get(reverse("accounts:tokens")).content.decode()
    assert "已于" in page and 'data-testid="revoke-token"' not in page
    client.logout()
    assert me_username(client, key) == 401


def test_nobody_revokes_someone_elses_token_unless_they_manage_the_owner(client, acc):
    tok, key = ApiToken.issue(acc.worker, name="worker's")
    for who in (acc.resident, acc.far_admin):
        client.force_login(who)
        assert client.post(reverse("accounts:token_revoke", args=[tok.pk])).status_code == 404
        assert client.delete(f"/api/v1/tokens/{tok.pk}").status_code == 404
    assert me_username(client.__class__(), key) == "worker"

    # The worker's administrator sees the live token on the account page and may revoke it there.
    client.force_login(acc.admin)
    detail = reverse("accounts:user", args=[acc.worker.pk])
    assert f"{tok.prefix}…" in client.get(detail).content.decode()
    r = client.post(reverse("accounts:token_revoke", args=[tok.pk]), {"next": detail})
    assert r.status_code == 302 and r["Location"] == detail
    assert me_username(client.__class__(), key) == 401
    entry = AuditEntry.objects.get(action="token.revoke")
    assert entry.actor == acc.admin and entry.after["prefix"] == tok.prefix


def test_revoke_ignores_an_offsite_next(client, acc):
    tok, _key = ApiToken.issue(acc.far_worker)
    client.force_login(acc.far_worker)
    r = client.post(reverse("accounts:token_revoke", args=[tok.pk]), {"next": "https://evil.example/"})
    assert r["Location"] == reverse("accounts:tokens")


def test_a_bad_token_name_shows_a_message_and_creates_nothing(client, acc):
    client.force_login(acc.far_worker)
    r = client.post(reverse("accounts:tokens"), {"name": "长" * 81})
    assert r.status_code == 400 and 'data-testid="field-error"' in r.content.decode()
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


def test_tokens_by_api(client, acc):
    h = bearer(acc.resident)
    r = client.post("/api/v1/tokens", {"name": "cli"}, content_type="application/json", **h)
    assert r.status_code == 201
    body = r.json()
    key = body["token"]
    assert key.startswith(body["prefix"]) and body["name"] == "cli" and body["revoked_at"] is None
    listed = client.get("/api/v1/tokens", **h).json()["items"]
    assert {t["name"] for t in listed} == {"", "cli"}
    assert key not in client.get("/api/v1/tokens", **h).content.decode()
    assert all("token" not in t and "key_hash" not in t for t in listed)
    # Another user's list holds only their own token.
    assert [t["name"] for t in client.get("/api/v1/tokens", **bearer(acc.worker)).json()["items"]] == [""]

    assert client.delete(f"/api/v1/tokens/{body['id']}", **h).status_code == 204
    assert me_username(client, key) == 401
    assert client.delete(f"/api/v1/tokens/{body['id']}", **h).status_code == 204  # already revoked: no change
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1
    r = client.post("/api/v1/tokens", {"name": "x" * 81}, content_type="application/json", **h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_token_name"


def test_the_audit_trail_keeps_prefixes_never_keys(client, acc):
    client.force_login(acc.far_worker)
    key = KEY_RE.findall(client.post(reverse("accounts:tokens"), {"name": "一"}).content.decode())[0]
    tok = ApiToken.objects.get(user=acc.far_worker)
    client.post(reverse("accounts:token_revoke", args=[tok.pk]))
    created = AuditEntry.objects.get(action="token.create")
    assert created.actor == acc.far_worker
    assert created.after == {"user": "far_worker", "prefix": tok.prefix, "name": "一"}
    text = audit_text()
    assert key not in text and tok.key_hash not in text


# ---- the staff admin ----

@pytest.fixture
def staff(acc):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-123")


def test_admin_shows_evidence_read_only(client, acc, staff):
    from gongzhi.accounts import services

    services.role_assign(actor=acc.admin, user=acc.subject, role="party_member", place=acc.tree["beining"])
    entry = AuditEntry.objects.first()
    client.force_login(staff)
    assert client.get("/admin/core/auditentry/").status_code == 200
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    change = client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert client.get("/admin/core/piiaccess/").status_code == 200
    assert client.get("/admin/core/piiaccess/add/").status_code == 403
    assert not PiiAccess.objects.exists()


def test_admin_lists_places_grids_roles_and_tokens_without_keys(client, acc, staff):
    top, _micros = grid_tree(acc.tree["beining"], 108.32, 22.82)
    tok, key = ApiToken.issue(acc.worker, name="admin-visible")
    client.force_login(staff)
    for url in ("/admin/places/place/", "/admin/places/grid/", "/admin/accounts/roleassignment/",
                "/admin/accounts/apitoken/", f"/admin/places/place/{acc.tree['beining'].pk}/change/"):
        assert client.get(url).status_code == 200, url
    grid_page = client.get(f"/admin/places/grid/{top.pk}/change/").content.decode()
    assert 'name="geometry"' not in grid_page and "Polygon" in grid_page  # shown, not editable
    token_page = client.get(f"/admin/accounts/apitoken/{tok.pk}/change/").content.decode()
    assert tok.prefix in token_page and key not in token_page and tok.key_hash not in token_page
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    assert "/admin/org/" not in client.get("/admin/").content.decode()


def test_admin_role_changes_are_audited(client, acc, staff):
    client.force_login(staff)
    r = client.post("/admin/accounts/roleassignment/add/", {
        "user": acc.subject.pk, "role": "party_member", "place": acc.tree["beining"].pk, "grid": "",
        "organization": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    ra = RoleAssignment.objects.get(user=acc.subject, role="party_member")
    assert AuditEntry.objects.get(action="role.assign").object_id == str(ra.pk)
    r = client.post("/admin/accounts/roleassignment/add/", {
        "user": acc.subject.pk, "role": "party_member", "place": "", "grid": "", "organization": ""})
    assert r.status_code == 200 and "只能有一个范围" in r.content.decode()


def test_a_resident_gets_no_tokens_page_but_keeps_the_api(client, acc):
    """The menu offers residents no tokens page, and the page agrees (web.menu_gate)."""
    client.force_login(acc.resident)
    assert client.get(reverse("accounts:tokens")).status_code == 403
    assert client.post(reverse("accounts:tokens"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.filter(user=acc.resident).exists()
