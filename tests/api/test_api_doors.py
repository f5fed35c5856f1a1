"""The API answers only what its OpenAPI documents: the one error shape on every operation, JSON 404s
for unknown paths (never an HTML page or a trailing-slash redirect), ninja's own refusals reshaped."""

from __future__ import annotations

import pytest

from gongzhi.accounts.models import ApiToken
from tests.factories import user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def auth(tree):
    u = user("admin", ("district_admin", tree["district"]), ("community_worker", tree["beining"]))
    _tok, key = ApiToken.issue(u)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _documented(client, path, method, status):
    op = client.get("/api/v1/openapi.json").json()["paths"][path][method]
    assert str(status) in op["responses"], (path, method, status, list(op["responses"]))
    return op["responses"][str(status)]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/role-assignments/{}", "/api/v1/timebank/family/{}"])
@pytest.mark.parametrize("pk", [999999, 2**63, 2**70])
def test_deleting_what_does_not_exist_is_a_documented_404(client, auth, url, pk):
    r = client.delete(url.format(pk), **auth)
    assert r.status_code in (400, 404), (r.status_code, r.content[:200])
    assert "code" in r.json()["error"]
    path = url.replace("{}", "{assignment_id}" if "role" in url else "{link_id}")
    resp = _documented(client, path, "delete", r.status_code)
    assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db
def test_every_operation_documents_the_error_shape(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status in ("400", "401", "403", "404", "409", "429"):
                assert status in op["responses"], (method, path, status)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/needs/", "/api/v1/me/", "/api/v1/no/such/thing", "/api/v1/appeals/a/b/c/d"])
def test_unknown_api_paths_are_a_json_404_never_a_redirect(client, method, url):
    r = getattr(client, method)(url)
    assert r.status_code == 404, (r.status_code, r.get("Location"))
    assert r.json()["error"]["code"] == "no_such_endpoint"


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_the_error_shape(client, auth):
    r = client.post("/api/v1/tokens", "W", content_type="application/json", **auth)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_input"
