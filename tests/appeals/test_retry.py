"""A submit whose transaction dies of a deadlock is run again before the client hears of it: the
client gets its 201 and the appeal, its timeline event and its audit entry exist once; a submit that
keeps deadlocking gets a clear 409, and nothing of it remains. Real transactions, through the API."""

import pytest
from django.db import OperationalError
from django.test import Client

from gongzhi.appeals.models import Appeal, AppealEvent
from gongzhi.core import audit
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import IN_GRID, bearer

pytestmark = pytest.mark.django_db(transaction=True)


def _deadlock():
    import psycopg.errors

    raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected("deadlock detected")


def _post(headers):
    return Client().post("/api/v1/appeals", {"category": "noise", "text": "楼下烧烤店每晚营业到凌晨两点",
                                             "lon": IN_GRID[0], "lat": IN_GRID[1]},
                         content_type="application/json", **headers)


@pytest.fixture
def deadlocks(monkeypatch, settings):
    """Make the next `n` audit appends die of a deadlock, as PostgreSQL's victim would."""
    settings.DB_RETRY_BACKOFF_S = 0.001
    real, left = audit.record_many, []

    def record_many(items):
        if left:
            left.pop()
            _deadlock()
        return real(items)

    monkeypatch.setattr(audit, "record_many", record_many)
    return lambda n: left.extend([1] * n)


def test_a_submit_that_deadlocks_once_is_created_once(city, deadlocks):
    headers = bearer(city.jumin)
    deadlocks(1)
    r = _post(headers)
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert list(Appeal.objects.values_list("number", flat=True)) == [number]
    assert AppealEvent.objects.filter(appeal__number=number).count() == 1
    assert AuditEntry.objects.filter(action="appeal.submit").count() == 1


def test_a_submit_that_keeps_deadlocking_gets_a_clear_409_and_leaves_nothing(city, deadlocks, settings):
    settings.DB_RETRY_ATTEMPTS = 3
    headers = bearer(city.jumin)
    deadlocks(3)
    r = _post(headers)
    assert r.status_code == 409, r.content
    assert r.json()["error"] == {"code": "busy", "message": "系统正忙，有人正在处理同一诉求，请稍后重试。"}
    assert not Appeal.objects.exists() and not AuditEntry.objects.filter(action="appeal.submit").exists()
    assert _post(headers).status_code == 201  # and the next one goes through
