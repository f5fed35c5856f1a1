"""Audit trail (append-only, hash-chained) and the access log of unmasked personal data."""

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import models

# The hashed form of an entry (documented in docs/audit.md; anyone can re-verify with it):
#   sha256_hex( prev_hash + canonical_json(fields) ), UTF-8 encoded, where the time is UTC with
#   microseconds and a "Z", and the JSON has sorted keys, no spaces and unescaped non-ASCII.
CANONICAL_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_time(at: dt.datetime) -> str:
    """`at` in UTC, microsecond precision: the same instant always gives the same text."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime(CANONICAL_TIME)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


class AuditEntry(models.Model):
    """One write: who, when, what, before/after. Rows are never updated or deleted."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def payload(self) -> str:
        """The canonical text that is hashed (docs/audit.md): independent of the writer's time zone,
        of the database's JSON key order and of the Python version."""
        return canonical_json({
            "at": canonical_time(self.at),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
        })

    def compute_hash(self) -> str:
        return entry_hash(self.prev_hash, self.payload())

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class AuditHead(models.Model):
    """A single row holding the chain's last hash; locking it serialises appends."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)

    def delete(self, *args, **kwargs):
        raise RuntimeError("the audit chain head is never deleted")


class PiiAccess(models.Model):
    """Every unmasked read of personal data: auditors read this."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    # Whose data: a registered person, or (for people without a file, such as a resident whose
    # hotline call staff entered) the record that holds it, e.g. "诉求 SQ20261126000001".
    person = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT)
    subject = models.CharField(max_length=64, blank=True)
    field = models.CharField(max_length=32)
    reason = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=16, default="web")

    class Meta:
        ordering = ["-id"]

    # Append-only like the audit trail (the database refuses too: migration 0005).
    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("the personal data access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("the personal data access log is append-only")
