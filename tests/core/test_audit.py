"""The audit trail is hash-chained and append-only; verify_audit names the first altered entry."""

import pytest
from django.core.management import call_command
from django.db import connection

from gongzhi.core import audit
from gongzhi.core.models import AuditEntry


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
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {AuditEntry._meta.db_table} SET after = %s WHERE id = %s", ['{"v": 999}', entries[2].id])
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code == 1
    assert f"entry {entries[2].id}" in capsys.readouterr().err


@pytest.mark.django_db
def test_verify_audit_detects_a_removed_entry(capsys):
    entries = _seed_entries(3)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entries[2].id])
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
