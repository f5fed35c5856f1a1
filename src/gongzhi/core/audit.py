"""Append to and verify the hash-chained audit trail.

Lock order (the one every writer keeps, see docs/operations.md "Lock order"): a transaction takes
its row locks first and the audit chain's head LAST, so that whoever holds the head waits on
nothing but its own commit. Two things would otherwise take locks after the head:
- PostgreSQL checks foreign keys (Django makes them DEFERRABLE INITIALLY DEFERRED) at COMMIT, with
  a KEY SHARE lock on every row referenced: a submit holding the head would then wait on the
  category row the sweep holds while the sweep waits on the head (a deadlock). `record_many`
  therefore runs the pending checks before it locks the head (`_check_deferred_constraints`), and
  rows locked only to serialise writers are locked FOR NO KEY UPDATE, which KEY SHARE does not wait on.
- The time bank's accounts: every path that locks one takes the head first (a volunteering
  check-out audits, then credits hours), so the order is: other rows, the head, time accounts.
Whatever still deadlocks is run again by core.transactions.serialised.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEntry, AuditHead


def record(actor, action: str, obj=None, *, object_type: str = "", object_id="", before=None, after=None):
    """Append one entry in the caller's transaction. Locks the chain head so appends never fork."""
    return record_many([(actor, action, obj, {"object_type": object_type, "object_id": object_id,
                                              "before": before, "after": after})])[0]


def record_many(items) -> list[AuditEntry]:
    """Append several entries in order, in the caller's transaction: one head lock, one INSERT, one
    head update for the lot (a batch writer's appends cost what one does). `items` are
    (actor, action, obj, {"object_type", "object_id", "before", "after"}) tuples; any key may be left out.
    """
    # No savepoint inside a caller's transaction (two round trips saved on every audited write): a
    # failure here is the caller's failure and rolls the whole transaction back.
    with transaction.atomic(savepoint=False):
        _check_deferred_constraints()
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            AuditHead.objects.get_or_create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        now = timezone.now()
        entries = []
        prev = head.last_hash
        for actor, action, obj, extra in items:
            object_type, object_id = extra.get("object_type", ""), extra.get("object_id", "")
            if obj is not None:
                object_type = object_type or obj._meta.label_lower
                object_id = object_id or str(obj.pk)
            entry = AuditEntry(
                at=now,
                actor=actor if getattr(actor, "pk", None) else None,
                actor_name=getattr(actor, "username", "") or "system",
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                # Round-trip through JSON so the stored values hash the same when read back.
                before=_jsonable(extra.get("before")),
                after=_jsonable(extra.get("after")),
                prev_hash=prev,
            )
            entry.hash = entry.compute_hash()
            prev = entry.hash
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries)
        head.last_hash = prev
        head.count += len(entries)
        head.save(update_fields=["last_hash", "count"])
    return entries


def _check_deferred_constraints() -> None:
    """Run now the foreign-key checks PostgreSQL would run at COMMIT, so that their KEY SHARE locks
    are taken before the head's (the lock order above), then defer again what comes after.

    SET CONSTRAINTS … IMMEDIATE checks every pending change at once (PostgreSQL docs, SET
    CONSTRAINTS); DEFERRED restores Django's default, as no constraint here is DEFERRABLE INITIALLY
    IMMEDIATE. One round trip."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


def _jsonable(value):
    import json

    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def describe(entry) -> str:
    """How verify_audit names an entry: its id, action, object and time."""
    obj = f"{entry.object_type} {entry.object_id}".strip()
    return f"entry {entry.id} ({entry.action} on {obj or '-'}, {entry.at.isoformat()}, by {entry.actor_name or '-'})"


def verify(batch: int = 5000):
    """Walk the chain in id order; return (ok, checked, first_bad_entry_id, reason).

    The reason names the bad row (id, action, object) and what is wrong with it: its content was
    altered, or it does not follow the entry before it (an entry between them was removed, or rows
    were reordered), or the head does not match the last entry (entries removed from the end).
    """
    prev = "0" * 64
    prev_entry = None
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            break
        for e in rows:
            if e.compute_hash() != e.hash:
                return False, checked, e.id, f"{describe(e)}: its content does not match its hash (altered)"
            if e.prev_hash != prev:
                return False, checked, e.id, _broken_link(e, prev_entry)
            prev = e.hash
            prev_entry = e
            checked += 1
            last_id = e.id
    head = AuditHead.objects.filter(pk=1).first()
    if head and checked and head.last_hash != prev:
        if AuditEntry.objects.filter(hash=head.last_hash).exists():
            why = "the head points at an earlier entry (the head was altered, or entries were reordered)"
        else:
            why = "entries after it were removed"
        return False, checked, None, (f"the chain head does not match the last entry, {describe(prev_entry)}: {why}")
    if head and head.count != checked:
        return False, checked, None, f"the chain head counts {head.count} entries, found {checked} (entries removed)"
    return True, checked, None, ""


def _broken_link(e, prev_entry) -> str:
    """Why entry `e` does not follow `prev_entry` (None: e is the first row)."""
    after = f"after {describe(prev_entry)}" if prev_entry else "as the first entry"
    real = AuditEntry.objects.filter(hash=e.prev_hash).only("id").first()
    if e.prev_hash == "0" * 64:
        why = "it claims to be the first entry of the chain (rows were reordered or inserted)"
    elif real is None:
        why = "the entry it follows is missing (removed)"
    else:
        why = f"it follows entry {real.id} (rows were reordered or their ids changed)"
    return f"{describe(e)} does not follow the row {after}: {why}"
