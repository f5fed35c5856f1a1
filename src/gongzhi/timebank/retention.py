"""The time bank section of a person's data export (PIPL art. 45): the balance and the whole statement."""

from __future__ import annotations

from .models import TimeAccount, TimeEntry

NAME = "timebank"


def export(person) -> dict:
    acc = TimeAccount.objects.filter(person=person).first()
    if acc is None:
        return {"balance": "0", "statement": []}
    entries = TimeEntry.objects.filter(account=acc).select_related("transaction").order_by("id")
    return {"balance": str(acc.balance), "statement": [
        {"at": e.created_at, "kind": e.transaction.kind, "amount": str(e.amount), "balance_after": str(e.balance_after),
         "memo": e.transaction.memo} for e in entries]}
