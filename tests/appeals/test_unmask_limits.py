"""Unmasking an assisted reporter through the API needs a reason as the page does, and both doors
share one rate limit per user counted from the access log (GONGZHI_UNMASK_PER_HOUR)."""

import datetime as dt
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.appeals.models import Appeal
from gongzhi.core.models import AuditEntry, PiiAccess
from tests.appeals.conftest import bearer
from tests.appeals.test_entry import PHONE, _key, _post

pytestmark = pytest.mark.django_db


@pytest.fixture
def appeal(client, city):
    client.force_login(city.cw)
    _post(client, _key(client))
    return Appeal.objects.get()


def _api(who, number, body):
    return Client().post(f"/api/v1/appeals/{number}/reporter/unmask", body, content_type="application/json",
                         **bearer(who))


def _nothing_logged():
    return not PiiAccess.objects.exists() and not AuditEntry.objects.filter(action="appeal.reporter_unmask").exists()


@pytest.mark.parametrize("body", [{"field": "phone", "reason": ""}, {"field": "phone", "reason": "   "},
                                  {"field": "phone"}, {"field": "phone", "reason": "很" * 201}])
def test_the_api_refuses_an_unmask_without_a_reason(city, appeal, body):
    r = _api(city.cw, appeal.number, body)
    assert r.status_code == 400, r.content
    assert PHONE not in r.content.decode() and "value" not in r.json()
    if "reason" in body:
        assert r.json()["error"]["code"] in ("reason_required", "reason_too_long")
        assert "查看原因" in r.json()["error"]["message"]
    assert _nothing_logged()


def test_the_api_is_limited_per_user_per_hour_with_retry_after(city, appeal, settings):
    settings.UNMASK_PER_HOUR = 3
    for _ in range(3):
        assert _api(city.cw, appeal.number, {"field": "phone", "reason": "回访核实"}).status_code == 200
    r = _api(city.cw, appeal.number, {"field": "phone", "reason": "回访核实"})
    assert r.status_code == 429 and PHONE not in r.content.decode()
    assert r.json()["error"]["code"] == "unmask_rate_limited" and "3 次上限" in r.json()["error"]["message"]
    assert 3500 <= int(r["Retry-After"]) <= 3600
    assert PiiAccess.objects.count() == 3 == AuditEntry.objects.filter(action="appeal.reporter_unmask").count()
    # The page shares the limit: same user, refused with a clear message, nothing shown.
    page = Client()
    page.force_login(city.cw)
    r = page.post(f"/appeals/entry/{appeal.number}/reveal/", {"field": "phone", "reason": "回访核实"})
    assert r.status_code == 429 and "一小时内查看完整个人信息已达 3 次上限" in r.content.decode()
    assert PHONE not in r.content.decode() and "Retry-After" in r
    assert PiiAccess.objects.count() == 3
    # An hour later the oldest read has left the window.
    later = timezone.now() + dt.timedelta(hours=1, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        r = _api(city.cw, appeal.number, {"field": "phone", "reason": "回访核实"})
    assert r.status_code == 200 and r.json()["value"] == PHONE


def test_the_limit_is_per_user(city, appeal, settings):
    settings.UNMASK_PER_HOUR = 1
    assert _api(city.cw, appeal.number, {"field": "name", "reason": "回访"}).status_code == 200
    assert _api(city.cw, appeal.number, {"field": "name", "reason": "回访"}).status_code == 429
    assert _api(city.admin, appeal.number, {"field": "name", "reason": "督办核实"}).status_code == 200
