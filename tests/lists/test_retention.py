"""Retention (PIPL art. 19): `gongzhi anonymise` strips requesters from old closed needs, keeps statistics."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.db.models import Count
from django.forms.models import model_to_dict
from django.utils import timezone

from gongzhi.core.models import AuditEntry
from gongzhi.lists import services
from gongzhi.lists.models import Need
from gongzhi.notifications.models import Notification
from tests.lists.conftest import wish

PHONE = "13812345678"
STAT_FIELDS = ("kind", "category", "skill", "place", "place_path", "grid", "state", "rating", "rated_at",
               "created_at", "updated_at", "due_on", "beneficiaries_count", "urgency", "source")


def _run(*args):
    out = io.StringIO()
    call_command("anonymise", *args, stdout=out)
    return out.getvalue()


def _stats(n):
    n.refresh_from_db()
    return {f: getattr(n, f) for f in STAT_FIELDS}


def test_old_closed_needs_lose_the_requester_and_keep_their_statistics(city):
    old = wish(city, title=f"想要书包 {PHONE}", description=f"电话 ０７７１-５５５１２３４ 或 {PHONE}")
    services.need_withdraw(actor=city.jumin, need=old, reason="不需要了")
    recent = wish(city, title=f"新书包 {PHONE}")
    services.need_withdraw(actor=city.jumin, need=recent)
    open_ = wish(city, title=f"文具 {PHONE}")
    Need.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=365 * 4))
    Notification.objects.create(recipient=city.jumin, kind="result", title="x", target=f"need:{old.number}",
                                created_at=timezone.now())
    before = {n.pk: _stats(n) for n in (old, recent, open_)}
    counts = dict(Need.objects.values_list("state").order_by().annotate(n=Count("id")))

    assert "needs 1" in _run("--older-than", "3")
    old.refresh_from_db()
    assert old.anonymised_at is not None and old.requester_id is None and old.beneficiary == ""
    assert PHONE not in old.title and PHONE not in old.description and "5551234" not in old.description
    assert not Notification.objects.filter(recipient=city.jumin, target=f"need:{old.number}").exists()
    for n in (recent, open_):
        n.refresh_from_db()
        assert n.anonymised_at is None and n.requester_id == city.jumin.pk and PHONE in n.title
    assert {n.pk: _stats(n) for n in (old, recent, open_)} == before
    assert dict(Need.objects.values_list("state").order_by().annotate(n=Count("id"))) == counts
    entry = AuditEntry.objects.get(action="lists.anonymise")
    assert entry.after["count"] == 1 and entry.after["numbers"] == [old.number]

    snapshot = [model_to_dict(n) for n in Need.objects.order_by("id")]
    audit_count = AuditEntry.objects.count()
    assert "needs 0" in _run("--older-than", "3")
    assert [model_to_dict(n) for n in Need.objects.order_by("id")] == snapshot
    assert AuditEntry.objects.count() == audit_count


def test_dry_run_changes_no_need(city):
    old = wish(city, title=f"想要书包 {PHONE}")
    services.need_withdraw(actor=city.jumin, need=old)
    Need.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=365 * 4))
    snapshot = [model_to_dict(n) for n in Need.objects.order_by("id")]
    assert "needs 1" in _run("--older-than", "3", "--dry-run")
    assert [model_to_dict(n) for n in Need.objects.order_by("id")] == snapshot
    assert not AuditEntry.objects.filter(action="lists.anonymise").exists()
