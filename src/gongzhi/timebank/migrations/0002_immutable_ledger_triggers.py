"""Database triggers refusing changes to ledger rows (entries and transactions).

PostgreSQL refuses UPDATE and DELETE row by row (TRUNCATE, used to empty test databases, is not
a row event). SQLite refuses UPDATE only: Django empties SQLite test databases with DELETE FROM,
which a DELETE trigger would break; the model layer refuses deletes on both.
"""

from django.db import migrations

TABLES = ["timebank_timeentry", "timebank_timetransaction"]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION timebank_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION USING MESSAGE = 'time bank ledger rows are immutable: ' || TG_TABLE_NAME; END $$ "
            "LANGUAGE plpgsql")
        for t in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {t}_immutable BEFORE UPDATE OR DELETE ON {t} "
                f"FOR EACH ROW EXECUTE FUNCTION timebank_refuse_change()")
    elif vendor == "sqlite":
        for t in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {t}_immutable BEFORE UPDATE ON {t} "
                f"BEGIN SELECT RAISE(ABORT, 'time bank ledger rows are immutable'); END")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for t in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_immutable ON {t}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_immutable")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS timebank_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("timebank", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
