"""Helpers for the account tests: who acts, Bearer headers, the audit trail as text."""

import json

from gongzhi.accounts.models import ApiToken
from gongzhi.core.models import AuditEntry

ACTORS = ["anonymous", "resident", "worker", "far_admin", "admin"]


def actor(acc, who):
    return None if who == "anonymous" else getattr(acc, who)


def login(client, acc, who):
    u = actor(acc, who)
    if u is not None:
        client.force_login(u)
    return u


def bearer(u) -> dict:
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def audit_text() -> str:
    """Every audit row as one string, to prove what never lands in the trail."""
    return json.dumps([[e.action, e.before, e.after] for e in AuditEntry.objects.order_by("id")], ensure_ascii=False)


def me(client, headers) -> dict:
    r = client.get("/api/v1/me", **headers)
    assert r.status_code == 200, r.content
    return r.json()
