"""The database itself keeps the audit trail, its head and the personal data access log append-only.

- core_auditentry: UPDATE and DELETE were refused on PostgreSQL (0002); now TRUNCATE too, and on
  SQLite UPDATE and DELETE.
- core_piiaccess: no UPDATE, DELETE or TRUNCATE.
- core_audithead: no DELETE or TRUNCATE; an UPDATE only moves the head forward, as an append does:
  the count grows and the new last hash is the hash of an entry that exists (or nothing changes).

SQLite has no TRUNCATE. Emptying a test database (Django's flush: TRUNCATE on PostgreSQL, DELETE on
SQLite) is refused as well; the test suite lifts these guards for its flush only (tests/conftest.py
runs DROP, then INSTALL again, around it). The SQL is kept here, frozen with the migration.
"""

from django.db import migrations

HEAD_MOVES_BACK = (
    'NEW.id <> OLD.id OR NEW."count" < OLD."count" '
    'OR (NEW."count" = OLD."count" AND NEW.last_hash <> OLD.last_hash) '
    'OR (NEW."count" > OLD."count" AND NOT EXISTS (SELECT 1 FROM core_auditentry WHERE hash = NEW.last_hash))'
)

INSTALL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION gongzhi_append_only_refuse() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused'; "
        "END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION gongzhi_audithead_forward_only() RETURNS trigger AS $$ BEGIN "
        f"IF {HEAD_MOVES_BACK} THEN "
        "RAISE EXCEPTION 'core_audithead only moves forward: count must grow to the hash of an existing entry'; "
        "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON core_auditentry "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongzhi_append_only_refuse()",
        "CREATE TRIGGER core_piiaccess_append_only BEFORE UPDATE OR DELETE ON core_piiaccess "
        "FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only_refuse()",
        "CREATE TRIGGER core_piiaccess_no_truncate BEFORE TRUNCATE ON core_piiaccess "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongzhi_append_only_refuse()",
        "CREATE TRIGGER core_audithead_no_delete BEFORE DELETE ON core_audithead "
        "FOR EACH ROW EXECUTE FUNCTION gongzhi_append_only_refuse()",
        "CREATE TRIGGER core_audithead_forward_only BEFORE UPDATE ON core_audithead "
        "FOR EACH ROW EXECUTE FUNCTION gongzhi_audithead_forward_only()",
        "CREATE TRIGGER core_audithead_no_truncate BEFORE TRUNCATE ON core_audithead "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongzhi_append_only_refuse()",
    ],
    "sqlite": [
        *(f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
          f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: {op} refused'); END"
          for t in ("core_auditentry", "core_piiaccess") for op in ("UPDATE", "DELETE")),
        "CREATE TRIGGER core_audithead_no_delete BEFORE DELETE ON core_audithead "
        "BEGIN SELECT RAISE(ABORT, 'core_audithead is append-only: DELETE refused'); END",
        f"CREATE TRIGGER core_audithead_forward_only BEFORE UPDATE ON core_audithead WHEN {HEAD_MOVES_BACK} "
        "BEGIN SELECT RAISE(ABORT, 'core_audithead only moves forward: count must grow to the hash of an "
        "existing entry'); END",
    ],
}

DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry",
        "DROP TRIGGER IF EXISTS core_piiaccess_append_only ON core_piiaccess",
        "DROP TRIGGER IF EXISTS core_piiaccess_no_truncate ON core_piiaccess",
        "DROP TRIGGER IF EXISTS core_audithead_no_delete ON core_audithead",
        "DROP TRIGGER IF EXISTS core_audithead_forward_only ON core_audithead",
        "DROP TRIGGER IF EXISTS core_audithead_no_truncate ON core_audithead",
    ],
    "sqlite": [
        *(f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in ("core_auditentry", "core_piiaccess")
          for op in ("update", "delete")),
        "DROP TRIGGER IF EXISTS core_audithead_no_delete",
        "DROP TRIGGER IF EXISTS core_audithead_forward_only",
    ],
}

def install(apps, schema_editor):
    for sql in INSTALL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in DROP.get(vendor, []):
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS gongzhi_append_only_refuse()", params=None)
        schema_editor.execute("DROP FUNCTION IF EXISTS gongzhi_audithead_forward_only()", params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_rechain_canonical_form")]
    operations = [migrations.RunPython(install, drop)]
