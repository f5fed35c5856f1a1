"""core.transactions.serialised: a transaction that dies of a deadlock or a serialisation failure is
run again from the start a bounded number of times; its effects happen once; after the last try the
caller gets a clear 409. Real transactions (the retry applies to the outermost block only)."""

import pytest
from django.db import OperationalError, ProgrammingError, connection, transaction

from gongzhi.core import audit
from gongzhi.core.errors import Conflict
from gongzhi.core.models import AuditEntry
from gongzhi.core.transactions import serialised

pytestmark = pytest.mark.django_db(transaction=True)

BUSY = "系统正忙，请稍后重试。"


def _die_of(sqlstate: str):
    """Fail the current statement as PostgreSQL does (a real error there; psycopg's on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{sqlstate}'; END $$")
    import psycopg.errors

    cause = psycopg.errors.lookup(sqlstate)("simulated")
    raise OperationalError("simulated") from cause


@pytest.fixture
def fast(settings):
    settings.DB_RETRY_BACKOFF_S = 0.001


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_transaction_that_deadlocks_once_is_run_again_and_its_effects_happen_once(fast, sqlstate):
    tries, committed = [], []

    def write():
        tries.append(1)
        audit.record(None, "probe.write", object_type="probe", object_id=len(tries))
        transaction.on_commit(lambda: committed.append(len(tries)))
        if len(tries) == 1:
            _die_of(sqlstate)
        return "done"

    assert serialised(write, BUSY) == "done"
    assert len(tries) == 2
    assert committed == [2]  # the failed attempt's on_commit was dropped with its rollback
    assert list(AuditEntry.objects.filter(action="probe.write").values_list("object_id", flat=True)) == ["2"]


def test_a_transaction_that_keeps_deadlocking_gives_up_with_a_clear_409(fast, settings):
    settings.DB_RETRY_ATTEMPTS = 3
    tries = []

    def write():
        tries.append(1)
        audit.record(None, "probe.write", object_type="probe", object_id=len(tries))
        _die_of("40P01")

    with pytest.raises(Conflict) as caught:
        serialised(write, BUSY)
    assert (caught.value.code, caught.value.status, str(caught.value.message)) == ("busy", 409, BUSY)
    assert len(tries) == 3
    assert not AuditEntry.objects.filter(action="probe.write").exists()


def test_inside_a_callers_transaction_the_error_is_the_callers(fast):
    tries = []

    def write():
        tries.append(1)
        _die_of("40P01")

    with pytest.raises(OperationalError), transaction.atomic():
        serialised(write, BUSY)
    assert len(tries) == 1  # only the outermost block may be run again


def test_other_database_errors_are_not_retried(fast):
    tries = []

    def write():
        tries.append(1)
        _die_of("42P01")  # undefined_table: a bug, not a race

    with pytest.raises((OperationalError, ProgrammingError)):
        serialised(write, BUSY)
    assert len(tries) == 1
