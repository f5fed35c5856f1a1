"""The audit trail is hash-chained and append-only; verify_audit names the first altered entry."""

import pytest
from django.core.management import call_command
from django.db import connection

from gongzhi.core import audit
from gongzhi.core.models import AuditEntry
from tests.race import join_all


def _tamper(sql, params):
    """Run SQL as an attacker with database rights would: past the ORM and, on PostgreSQL, past the trigger."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")  # superuser: triggers off
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


@pytest.mark.django_db
def test_verify_audit_names_the_first_altered_entry(capsys):
    entries = _seed_entries(5)
    call_command("verify_audit")
    assert "5 entries verified" in capsys.readouterr().out
    # Tamper below the ORM, as an attacker with database access would.
    _tamper("UPDATE {table} SET after = %s WHERE id = %s", ['{"v": 999}', entries[2].id])
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code == 1
    assert f"entry {entries[2].id}" in capsys.readouterr().err


@pytest.mark.django_db
def test_verify_audit_detects_a_removed_entry(capsys):
    entries = _seed_entries(3)
    _tamper("DELETE FROM {table} WHERE id = %s", [entries[2].id])
    with pytest.raises(SystemExit):
        call_command("verify_audit")
    assert "removed" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_write_through_a_service_is_audited_with_before_and_after(tree):
    from gongzhi.places.services import place_create
    from tests.factories import user

    admin = user("admin", ("district_admin", tree["district"]))
    place_create(actor=admin, kind="compound", code="450102001004001", name="大修厂小区", parent=tree["beining"])
    e = AuditEntry.objects.get(action="place.create")
    assert e.actor_id == admin.id and e.after["name"] == "大修厂小区"


@pytest.mark.django_db
def test_postgresql_itself_refuses_to_alter_the_trail():
    from django.db import DatabaseError, transaction

    e = _seed_entries(1)[0]
    if connection.vendor != "postgresql":
        # SQLite has no such trigger; the ORM guard above is what holds there.
        assert AuditEntry.objects.filter(pk=e.pk).exists()
        return
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {AuditEntry._meta.db_table} SET action = 'x' WHERE id = %s", [e.id])


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
