"""API tokens: created by the command, accepted as Bearer, refused when wrong or revoked."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from tests.factories import user


def _token_for(username):
    out = io.StringIO()
    call_command("create_token", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


@pytest.mark.django_db
def test_create_token_prints_a_token_that_works_as_bearer(client, tree):
    user("wang", ("community_worker", tree["beining"]))
    key = _token_for("wang")
    assert key.startswith("gz_")
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200
    assert r.json()["username"] == "wang"
    assert "registry.view" in r.json()["actions"]
    assert not ApiToken.objects.filter(key_hash=key).exists()  # only the hash is stored


@pytest.mark.django_db
def test_bad_or_revoked_tokens_are_401(client, tree):
    user("li", ("resident", tree["beining"]))
    key = _token_for("li")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    ApiToken.objects.update(revoked_at=timezone.now())
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


@pytest.mark.django_db
def test_create_token_for_unknown_user_fails():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_token", "ghost", stdout=io.StringIO())


@pytest.mark.django_db
def test_healthz_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"]["ok"] is True


@pytest.mark.django_db
def test_pages_default_to_chinese_whatever_the_browser_says(client):
    r = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in r.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert 'lang="en"' in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_api_errors_follow_accept_language(client):
    zh = client.get("/api/v1/grids/locate", {"lon": "x", "lat": "1"}).json()["error"]["message"]
    en = client.get("/api/v1/grids/locate", {"lon": "x", "lat": "1"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "经纬度" in zh
    assert "经纬度" not in en["error"]["message"]


@pytest.mark.django_db
def test_a_token_marks_its_use_once_a_minute_and_dies_with_its_user(client, tree):
    u = user("li", ("resident", tree["beining"]))
    tok, key = ApiToken.issue(u)

    def me():
        return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code

    assert me() == 200
    tok.refresh_from_db()
    first = tok.last_used_at
    assert first is not None
    assert me() == 200
    tok.refresh_from_db()
    assert tok.last_used_at == first  # within the minute: no write
    ApiToken.objects.filter(pk=tok.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    assert me() == 200
    tok.refresh_from_db()
    assert tok.last_used_at > first
    type(u).objects.filter(pk=u.pk).update(is_active=False)
    assert me() == 401


@pytest.mark.django_db
def test_a_token_gives_its_user_as_the_database_has_it(tree):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from gongzhi.accounts.authentication import user_for_token

    u = user("zhao", ("community_worker", tree["beining"]))
    u.first_name, u.email, u.is_staff = "赵", "zhao@example.cn", True
    u.last_login = timezone.now() - dt.timedelta(days=2)
    u.save()
    _t, key = ApiToken.issue(u)
    request = RequestFactory().get("/")
    got = user_for_token(key, request)
    assert request.user is got
    want = get_user_model().objects.get(pk=u.pk)
    for f in get_user_model()._meta.concrete_fields:  # values and types: datetimes aware, flags bool
        assert (getattr(got, f.attname), type(getattr(got, f.attname))) == \
            (getattr(want, f.attname), type(getattr(want, f.attname))), f.name
    assert got._state.adding is False and got._state.db == "default"
    assert got.is_authenticated
    assert user_for_token(key + "x", request) is None
