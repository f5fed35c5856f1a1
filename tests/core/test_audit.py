"""The audit trail is hash-chained and append-only; verify_audit names the first altered entry."""

import pytest
from django.core.management import call_command
from django.db import connection

from gongzhi.core import audit
from gongzhi.core.models import AuditEntry, AuditHead, PiiAccess
from tests.race import join_all


def _tamper(sql, params=(), table=None):
    """Run SQL as an attacker with database rights would: past the ORM and past the guards (on
    PostgreSQL as superuser with the triggers off, on SQLite by dropping them in this transaction)."""
    table = table or AuditEntry._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")  # superuser: triggers off
        else:
            for t in ("update", "delete"):
                cur.execute(f"DROP TRIGGER IF EXISTS {table}_no_{t}")
        cur.execute(sql.format(table=table), params)
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")


def _seed_entries(n=5):
    return [audit.record(None, "test.write", object_type="thing", object_id=i, before={"v": i}, after={"v": i + 1})
            for i in range(n)]


@pytest.mark.django_db
def test_entries_chain_each_to_the_one_before():
    entries = _seed_entries(4)
    assert entries[0].prev_hash == "0" * 64
    for a, b in zip(entries, entries[1:], strict=False):
        assert b.prev_hash == a.hash
    assert audit.verify()[:2] == (True, 4)


@pytest.mark.django_db
def test_entries_cannot_be_updated_or_deleted_through_the_orm():
    e = _seed_entries(1)[0]
    e.action = "changed"
    with pytest.raises(RuntimeError):
        e.save()
    with pytest.raises(RuntimeError):
        e.delete()


def _verify_fails(capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code == 1
    return capsys.readouterr().err


@pytest.mark.django_db
def test_verify_audit_names_the_first_altered_entry(capsys):
    entries = _seed_entries(5)
    call_command("verify_audit")
    assert "5 entries verified" in capsys.readouterr().out
    # Tamper below the ORM, as an attacker with database access would.
    _tamper("UPDATE {table} SET after = %s WHERE id = %s", ['{"v": 999}', entries[2].id])
    err = _verify_fails(capsys)
    assert f"TAMPERED at entry {entries[2].id}:" in err
    assert f"entry {entries[2].id} (test.write on thing 2," in err and "altered" in err
    assert "2 entries verified before it" in err


@pytest.mark.django_db
def test_verify_audit_names_the_row_after_a_removed_entry(capsys):
    entries = _seed_entries(4)
    _tamper("DELETE FROM {table} WHERE id = %s", [entries[1].id])
    err = _verify_fails(capsys)
    assert f"TAMPERED at entry {entries[2].id}:" in err
    assert f"after entry {entries[0].id} (test.write on thing 0," in err and "removed" in err


@pytest.mark.django_db
def test_verify_audit_detects_a_removed_last_entry(capsys):
    entries = _seed_entries(3)
    _tamper("DELETE FROM {table} WHERE id = %s", [entries[2].id])
    err = _verify_fails(capsys)
    assert "TAMPERED at chain head" in err and "removed" in err
    assert f"entry {entries[1].id} (test.write on thing 1," in err


@pytest.mark.django_db
def test_verify_audit_names_reordered_rows(capsys):
    entries = _seed_entries(4)
    a, b = entries[1].id, entries[2].id
    spare = entries[-1].id + 1000
    _tamper("UPDATE {table} SET id = %s WHERE id = %s", [spare, a])
    _tamper("UPDATE {table} SET id = %s WHERE id = %s", [a, b])
    _tamper("UPDATE {table} SET id = %s WHERE id = %s", [b, spare])
    err = _verify_fails(capsys)
    assert f"TAMPERED at entry {a}:" in err
    assert f"entry {a} (test.write on thing 2," in err and f"follows entry {b} (rows were reordered" in err


@pytest.mark.django_db
def test_the_hashed_form_is_canonical_whatever_the_writers_time_zone(capsys):
    """A writer whose clock is in +08:00 (as seed_demo's back-dated services are) still verifies,
    and the hash is the documented one (docs/audit.md) computed by hand."""
    import datetime as dt
    import hashlib
    import json
    from unittest import mock

    when = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with mock.patch("django.utils.timezone.now", return_value=when):
        audit.record(None, "test.tz", object_type="thing", object_id=1, after={"名": "北宁", "b": 1.5, "a": [1]})
        audit.record(None, "test.tz", object_type="thing", object_id=2, after={"z": None})
    call_command("verify_audit")
    assert "2 entries verified" in capsys.readouterr().out
    e = AuditEntry.objects.order_by("id").first()  # read back from the database
    payload = ('{"action":"test.tz","actor":null,"actor_name":"system","after":{"a":[1],"b":1.5,"名":"北宁"},'
               '"at":"2026-03-01T01:30:15.123456Z","before":null,"object_id":"1","object_type":"thing"}')
    assert e.payload() == payload
    assert e.hash == hashlib.sha256(("0" * 64 + payload).encode("utf-8")).hexdigest()
    assert json.loads(payload)["at"].endswith("Z")


@pytest.mark.django_db
def test_a_write_through_a_service_is_audited_with_before_and_after(tree):
    from gongzhi.places.services import place_create
    from tests.factories import user

    admin = user("admin", ("district_admin", tree["district"]))
    place_create(actor=admin, kind="compound", code="450102001004001", name="大修厂小区", parent=tree["beining"])
    e = AuditEntry.objects.get(action="place.create")
    assert e.actor_id == admin.id and e.after["name"] == "大修厂小区"


def _refused(sql, params=()):
    """Run SQL with the application's own connection; assert the database refuses it."""
    from django.db import DatabaseError, transaction

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # the test's own inserts leave deferred FK checks pending
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
    return str(exc.value)


@pytest.mark.django_db
def test_the_database_refuses_to_alter_or_empty_the_trail():
    e = _seed_entries(1)[0]
    t = AuditEntry._meta.db_table
    _refused(f"UPDATE {t} SET action = 'x' WHERE id = %s", [e.id])
    _refused(f"DELETE FROM {t} WHERE id = %s", [e.id])
    if connection.vendor == "postgresql":
        assert "TRUNCATE refused" in _refused(f"TRUNCATE {t}")
        assert "TRUNCATE refused" in _refused(f"TRUNCATE {t}, core_audithead, core_piiaccess")
    assert AuditEntry.objects.get(pk=e.pk).action == "test.write"


@pytest.mark.django_db
def test_the_database_refuses_to_alter_delete_or_empty_the_access_log(tree):
    from tests.factories import user

    u = user("auditor")
    row = PiiAccess.objects.create(user=u, subject="诉求 X", field="reporter_phone", reason="回访")
    t = PiiAccess._meta.db_table
    _refused(f"UPDATE {t} SET reason = 'x' WHERE id = %s", [row.id])
    _refused(f"DELETE FROM {t} WHERE id = %s", [row.id])
    if connection.vendor == "postgresql":
        assert "TRUNCATE refused" in _refused(f"TRUNCATE {t}")
    assert PiiAccess.objects.get(pk=row.pk).reason == "回访"
    # The model refuses too, before the database is asked.
    row.reason = "x"
    with pytest.raises(RuntimeError):
        row.save()
    with pytest.raises(RuntimeError):
        row.delete()


@pytest.mark.django_db
def test_the_database_lets_the_head_move_forward_only():
    entries = _seed_entries(3)
    t = AuditHead._meta.db_table
    head = AuditHead.objects.get(pk=1)
    assert (head.count, head.last_hash) == (3, entries[-1].hash)
    _refused(f"DELETE FROM {t}")
    _refused(f'UPDATE {t} SET "count" = 2, last_hash = %s', [entries[1].hash])  # backwards
    _refused(f'UPDATE {t} SET last_hash = %s', [entries[1].hash])  # same count, other hash
    _refused(f'UPDATE {t} SET "count" = 4, last_hash = %s', ["f" * 64])  # no such entry
    if connection.vendor == "postgresql":
        assert "TRUNCATE refused" in _refused(f"TRUNCATE {t}")
    with pytest.raises(RuntimeError):
        head.delete()
    head.refresh_from_db()
    assert (head.count, head.last_hash) == (3, entries[-1].hash)
    # The append path still moves it forward.
    more = _seed_entries(2)
    head.refresh_from_db()
    assert (head.count, head.last_hash) == (5, more[-1].hash)
    assert audit.verify()[:2] == (True, 5)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    import threading

    from django.db import connections

    errors = []

    def writer(n):
        try:
            for i in range(15):
                audit.record(None, "race.write", object_type="race", object_id=f"{n}-{i}", after={"i": i})
        except Exception as exc:  # surfaced below: a failed append is a test failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    assert not errors
    assert AuditEntry.objects.count() == 45
    assert audit.verify()[:2] == (True, 45)


@pytest.mark.django_db(transaction=True)
def test_the_guards_are_back_after_the_test_suites_flush():
    """The suite empties the database between transactional tests past the guards; they must be
    in force again afterwards (else every later test would run unguarded)."""
    _seed_entries(2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists() and not AuditHead.objects.exists()
    e = _seed_entries(1)[0]
    _refused(f"UPDATE {AuditEntry._meta.db_table} SET action = 'x' WHERE id = %s", [e.id])
    _refused(f"DELETE FROM {AuditHead._meta.db_table}")
    if connection.vendor == "postgresql":
        assert "TRUNCATE refused" in _refused(f"TRUNCATE {PiiAccess._meta.db_table}")
