"""The needs' retention step: closed needs past the period lose who asked for them and how to reach them.

Kept: kind, category, skill, place and grid, counts, dates, state, the rating score and the projects,
so the lists' statistics read the same. Removed: the requester link (and the recorder or rater when
that is the requester), the beneficiary alias, the requester's notifications about the need; phone
and ID numbers in the title, description and rating comment are masked.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gongzhi.core import audit, retention

from .models import Need, NeedState

NAME = "needs"
# A need nobody will act on again: done (the rating may never come), rated, withdrawn.
CLOSED_STATES = (NeedState.DONE, NeedState.RATED, NeedState.WITHDRAWN)
TEXT_FIELDS = ("title", "description", "rating_comment")


def due(cutoff):
    """Closed needs whose closing (rating, else last change) is older than `cutoff`, not yet anonymised."""
    return Need.objects.filter(Q(rated_at__lt=cutoff) | Q(rated_at__isnull=True, updated_at__lt=cutoff),
                               state__in=CLOSED_STATES, anonymised_at__isnull=True)


def step(*, cutoff, dry_run=False, batch=500, progress=lambda _m: None, actor=None) -> retention.StepResult:
    return retention.in_batches("needs", due, _anonymise_batch, cutoff=cutoff, dry_run=dry_run, batch=batch,
                                progress=progress, actor=actor)


def _anonymise_batch(ids, *, cutoff, actor) -> int:
    from gongzhi.notifications.models import Notification

    now = timezone.now()
    with transaction.atomic():
        rows = list(due(cutoff).filter(id__in=ids).select_for_update().order_by("id")
                    .only("id", "number", "requester_id", "recorded_by_id", "rated_by_id", "beneficiary", "version",
                          *TEXT_FIELDS))
        if not rows:
            return 0
        pairs = Q()
        for n in rows:
            if n.requester_id:
                pairs |= Q(recipient_id=n.requester_id, target=f"need:{n.number}")
        notifications = Notification.objects.filter(pairs).delete()[0] if pairs else 0
        for n in rows:
            if n.recorded_by_id is not None and n.recorded_by_id == n.requester_id:
                n.recorded_by = None
            if n.rated_by_id is not None and n.rated_by_id == n.requester_id:
                n.rated_by = None
            n.requester = None
            n.beneficiary = ""
            for f in TEXT_FIELDS:
                setattr(n, f, retention.mask_text(getattr(n, f)))
            n.anonymised_at = now
            n.version += 1
        # bulk_update leaves updated_at (auto_now) as it was: the need's own dates stay.
        Need.objects.bulk_update(rows, ["requester", "recorded_by", "rated_by", "beneficiary", "anonymised_at",
                                        "version", *TEXT_FIELDS])
        audit.record(actor, "lists.anonymise", object_type="lists.need", object_id=f"{rows[0].pk}-{rows[-1].pk}",
                     after={"count": len(rows), "cutoff": cutoff.isoformat(), "numbers": [n.number for n in rows],
                            "notifications_deleted": notifications})
    return len(rows)


def export(person) -> dict:
    """The needs this person asked for, the resources they offer and the projects they took on."""
    from .models import Project, Resource

    needs = Need.objects.filter(requester_id=person.user_id) if person.user_id else Need.objects.none()
    return {
        "needs": [{"number": n.number, "kind": n.kind, "title": n.title, "description": n.description,
                   "beneficiary": n.beneficiary, "state": n.state, "created_at": n.created_at,
                   "rating": n.rating, "rating_comment": n.rating_comment} for n in needs.order_by("id")],
        "resources": [{"id": r.pk, "title": r.title, "kind": r.kind, "description": r.description,
                       "availability": r.availability, "active": r.active}
                      for r in Resource.objects.filter(person=person).order_by("id")],
        "projects": [{"number": p.number, "title": p.title, "state": p.state, "hours": p.hours,
                      "summary": p.summary} for p in Project.objects.filter(taker_person=person).order_by("id")],
    }
