"""Re-hash the existing audit chain once in the canonical form (docs/audit.md).

Until this migration an entry's hash took its time as `isoformat()` in the writer's time zone,
which does not survive the database (it reads back in UTC): chains written with a non-UTC clock,
such as every seeded demo, never verified. The hashed form is now canonical (UTC, microseconds,
compact sorted JSON). Old entries are re-hashed once, in id order, and the chain gets one more
entry, `audit.rechain`, recording what was found under the old form (how many entries, whether
they verified, the first that did not, the old head hash) so the step itself stays on the record.
A fresh database has no entries and nothing happens.

The hashing below is a frozen copy of the canonical form, so later changes to the models cannot
change what this migration did.
"""

import datetime as dt
import hashlib
import json

from django.db import migrations

ZERO = "0" * 64


def canonical_hash(prev_hash, e) -> str:
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
    payload = json.dumps({
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": e.actor_id,
        "actor_name": e.actor_name, "action": e.action, "object_type": e.object_type,
        "object_id": e.object_id, "before": e.before, "after": e.after,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def legacy_hash(e) -> str:
    payload = json.dumps({
        "at": e.at.isoformat(), "actor": e.actor_id, "actor_name": e.actor_name, "action": e.action,
        "object_type": e.object_type, "object_id": e.object_id, "before": e.before, "after": e.after,
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((e.prev_hash + payload).encode()).hexdigest()


def rechain(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    AuditHead = apps.get_model("core", "AuditHead")
    if not AuditEntry.objects.exists():
        return
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:  # the table owner (who migrates) lifts the append-only trigger for this step only
        schema_editor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only")
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    old_head = head.last_hash if head else None
    prev_old, prev_new, count, first_bad = ZERO, ZERO, 0, None
    last_id, batch = 0, []
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:2000])
        if not rows:
            break
        for e in rows:
            if first_bad is None and (e.prev_hash != prev_old or legacy_hash(e) != e.hash):
                first_bad = e.id
            prev_old = e.hash
            e.prev_hash, e.hash = prev_new, canonical_hash(prev_new, e)
            prev_new = e.hash
            batch.append(e)
            count += 1
            last_id = e.id
        AuditEntry.objects.bulk_update(batch, ["prev_hash", "hash"], batch_size=500)
        batch = []
    note = AuditEntry(
        at=dt.datetime.now(dt.UTC), actor_id=None, actor_name="system", action="audit.rechain",
        object_type="core.auditentry", object_id="",
        before={"form": "isoformat in the writer's time zone", "head": old_head, "entries": count},
        after={"form": "canonical v2 (docs/audit.md)", "entries": count,
               "old_form_verified": first_bad is None and old_head in (None, prev_old),
               "old_form_first_bad_entry": first_bad, "old_head_matched": old_head in (None, prev_old)},
        prev_hash=prev_new)
    note.hash = canonical_hash(prev_new, note)
    note.save()
    AuditHead.objects.update_or_create(pk=1, defaults={"last_hash": note.hash, "count": count + 1})
    if pg:  # the deferred foreign key checks run first: ALTER TABLE refuses pending trigger events
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_pii_access_subject")]
    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
