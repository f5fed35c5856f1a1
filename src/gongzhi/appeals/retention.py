"""The appeals' retention step: closed appeals past the period lose who reported them and how to reach them.

Kept: category, grid and place, location, source, states, every timestamp, counters, the rating
(resolved yes/no, satisfaction) and the KPI rollups (never touched), so statistics read the same.
Removed: the reporter link (and the submitter when it is the reporter), the assisted reporter's
encrypted name and phone with their lookup hash and masked copies, the address a caller dictated
(often their home), the idempotency key, the
reporter's notifications about the appeal, the intake rows it came from; phone and ID numbers in
the title, text, rating comment, rejection reason and timeline notes are masked; the reporter's
name on their own timeline lines and photos is dropped (the actor link becomes empty).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from gongzhi.core import audit, retention

from .models import TERMINAL_STATES, Appeal, AppealEvent, AppealIntake, AppealPhoto

NAME = "appeals"
TEXT_FIELDS = ("title", "text", "rating_comment", "reject_reason")


def due(cutoff):
    """Closed appeals whose closing is older than `cutoff` and not yet anonymised."""
    return Appeal.objects.filter(
        Q(closed_at__lt=cutoff) | Q(closed_at__isnull=True, updated_at__lt=cutoff),
        state__in=TERMINAL_STATES, anonymised_at__isnull=True)


def step(*, cutoff, dry_run=False, batch=500, progress=lambda _m: None, actor=None) -> retention.StepResult:
    return retention.in_batches("appeals", due, _anonymise_batch, cutoff=cutoff, dry_run=dry_run, batch=batch,
                                progress=progress, actor=actor)


def _anonymise_batch(ids, *, cutoff, actor) -> int:
    from gongzhi.notifications.models import Notification

    now = timezone.now()
    with transaction.atomic():
        # Re-read under the lock: a concurrent run may have taken some of these already.
        rows = list(due(cutoff).filter(id__in=ids).select_for_update().order_by("id")
                    .only("id", "number", "reporter_id", "submitted_by_id", "version", "address", *TEXT_FIELDS))
        if not rows:
            return 0
        ids = [a.pk for a in rows]
        # The reporter's own inbox lines about these appeals (they name the appeal, and are theirs).
        pairs = Q()
        for a in rows:
            if a.reporter_id:
                pairs |= Q(recipient_id=a.reporter_id, appeal_number=a.number)
        notifications = Notification.objects.filter(pairs).delete()[0] if pairs else 0
        intakes = AppealIntake.objects.filter(appeal_id__in=ids).delete()[0]
        # Timeline: the rows stay (append-only for the application); only this job masks them.
        AppealEvent.objects.filter(appeal_id__in=ids, actor_id=F("appeal__reporter_id")).update(actor=None)
        AppealPhoto.objects.filter(appeal_id__in=ids, uploaded_by_id=F("appeal__reporter_id")).update(uploaded_by=None)
        events = []
        for e in AppealEvent.objects.filter(appeal_id__in=ids).only("id", "note", "data"):
            note, data = retention.mask_text(e.note), retention.mask_json(e.data)
            if note != e.note or data != e.data:
                e.note, e.data = note, data
                events.append(e)
        AppealEvent.objects.bulk_update(events, ["note", "data"], batch_size=500)
        for a in rows:
            if a.submitted_by_id is not None and a.submitted_by_id == a.reporter_id:
                a.submitted_by = None
            a.reporter = None
            a.idempotency_key = None
            a.address = ""
            a.reporter_name_enc = a.reporter_name_masked = ""
            a.reporter_phone_enc = a.reporter_phone_hash = a.reporter_phone_masked = ""
            for f in TEXT_FIELDS:
                setattr(a, f, retention.mask_text(getattr(a, f)))
            a.anonymised_at = now
            a.version += 1
        Appeal.objects.bulk_update(rows, ["reporter", "submitted_by", "idempotency_key", "reporter_name_enc",
                                          "reporter_name_masked", "reporter_phone_enc", "reporter_phone_hash",
                                          "reporter_phone_masked", "address", "anonymised_at", "version", *TEXT_FIELDS])
        audit.record(actor, "appeals.anonymise", object_type="appeals.appeal",
                     object_id=f"{ids[0]}-{ids[-1]}",
                     after={"count": len(rows), "cutoff": cutoff.isoformat(), "numbers": [a.number for a in rows],
                            "events_masked": len(events), "notifications_deleted": notifications,
                            "intakes_deleted": intakes})
    return len(rows)


def export(person) -> list[dict]:
    """The appeals this person reported: with their account, or by phone through a staff member (in clear)."""
    from gongzhi.core import pii

    q = Q()
    if person.user_id:
        q |= Q(reporter_id=person.user_id)
    if person.phone_hash:
        q |= Q(reporter_phone_hash=person.phone_hash)
    if not q:
        return []
    return [{
        "number": a.number, "category": a.category.name, "title": a.title, "text": a.text, "state": a.state,
        "source": a.source, "anonymous": a.anonymous, "lon": a.lon, "lat": a.lat, "address": a.address,
        "submitted_at": a.submitted_at, "closed_at": a.closed_at,
        "reporter_name": pii.decrypt(a.reporter_name_enc), "reporter_phone": pii.decrypt(a.reporter_phone_enc),
        "consent_recorded": a.consent_recorded, "rating_resolved": a.rating_resolved,
        "satisfaction": a.satisfaction, "rating_comment": a.rating_comment,
    } for a in Appeal.objects.filter(q).select_related("category").order_by("id")]
