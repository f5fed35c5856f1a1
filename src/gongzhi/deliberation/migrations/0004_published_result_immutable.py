"""The database refuses to change a published result (民议民决: "after publication the tally cannot
change; a correction is a new, audited recount"). Any UPDATE of a proposal whose result is published
that touches the result, the verdict or the publication time is refused, on both databases; the
service never does it, so this guards against everything else (a script, a console, a bug)."""

from django.db import migrations

PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION deliberation_refuse_republish() RETURNS trigger AS $$ "
    "BEGIN IF OLD.published_at IS NOT NULL AND (NEW.result IS DISTINCT FROM OLD.result "
    "OR NEW.passed IS DISTINCT FROM OLD.passed OR NEW.published_at IS DISTINCT FROM OLD.published_at) THEN "
    "RAISE EXCEPTION USING MESSAGE = 'a published result is immutable: proposal ' || OLD.id; END IF; "
    "RETURN NEW; END $$ LANGUAGE plpgsql")
PG_TRIGGER = ("CREATE TRIGGER deliberation_proposal_published_immutable BEFORE UPDATE ON deliberation_proposal "
              "FOR EACH ROW EXECUTE FUNCTION deliberation_refuse_republish()")
SQLITE_TRIGGER = (
    "CREATE TRIGGER deliberation_proposal_published_immutable BEFORE UPDATE ON deliberation_proposal "
    "WHEN OLD.published_at IS NOT NULL AND (NEW.result IS NOT OLD.result OR NEW.passed IS NOT OLD.passed "
    "OR NEW.published_at IS NOT OLD.published_at) "
    "BEGIN SELECT RAISE(ABORT, 'a published result is immutable'); END")


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_TRIGGER)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS deliberation_proposal_published_immutable ON deliberation_proposal")
        schema_editor.execute("DROP FUNCTION IF EXISTS deliberation_refuse_republish()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS deliberation_proposal_published_immutable")


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0003_alter_agendaitem_source")]

    operations = [migrations.RunPython(create, drop)]
