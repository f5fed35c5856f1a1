"""iCalendar feeds of meetings: per community (its compounds included), per joint committee, and a
private one per person. Series are written once with RRULE, EXDATE and RECURRENCE-ID (deliberation.ics),
so calendar apps expand them and show each exception; one-off meetings are single events.

Community and committee feeds are public (times, titles and places of public sessions: no personal
data); the private feed opens with the secret in its URL only.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.models import Role
from gongzhi.core import scopes
from gongzhi.core.pii import mask_public_text
from gongzhi.org.models import Membership, Person

from . import ics
from .models import Meeting, MeetingSeries, MeetingState
from .services.common import VIEW
from .services.meetings import as_recurrence

PAST = dt.timedelta(days=180)
AHEAD = dt.timedelta(days=400)


def _events(series_q: Q, meeting_q: Q, *, now=None) -> list[ics.FeedEvent]:
    """Feeds are read without signing in: titles and places are typed by staff, so a phone or ID number
    typed into them is masked as on every public page (core.pii.mask_public_text)."""
    now = now or timezone.now()
    out = []
    for s in MeetingSeries.objects.filter(series_q, active=True).select_related("place", "committee") \
            .prefetch_related("exceptions").order_by("id"):
        spec = as_recurrence(s)
        out.append(ics.FeedEvent(uid=f"series-{s.pk}@gongzhi", summary=mask_public_text(s.title),
                                 location=mask_public_text(s.location),
                                 description=s.get_form_display(), start=spec.dtstart, end=spec.dtstart + spec.duration,
                                 url=f"/deliberation/series/{s.pk}/", series=spec))
    meetings = Meeting.objects.filter(meeting_q, series__isnull=True, state__in=[MeetingState.SCHEDULED,
                                                                                  MeetingState.HELD],
                                      starts_at__gte=now - PAST, starts_at__lt=now + AHEAD).order_by("starts_at")
    for m in meetings:
        out.append(ics.FeedEvent(uid=f"meeting-{m.pk}@gongzhi", summary=mask_public_text(m.title),
                                 location=mask_public_text(m.location),
                                 description=m.get_form_display(), start=m.starts_at, end=m.ends_at,
                                 url=f"/deliberation/meetings/{m.pk}/"))
    return out


def community_feed(place) -> bytes:
    q = Q(place_path__startswith=place.path)
    return ics.build_calendar(place.name, _events(q, q))


def committee_feed(committee) -> bytes:
    q = Q(committee=committee)
    return ics.build_calendar(committee.name, _events(q, q))


def personal_q(user) -> Q:
    """What a person follows: where they live, the committees their units belong to (a liaison), and
    the places they manage or oversee."""
    q = Q(pk__in=[])
    person = Person.objects.filter(user=user).only("place_path").first()
    if person is not None and person.place_path:
        q |= Q(place_path__startswith=person.place_path)
    units = user.role_assignments.filter(role=Role.UNIT_LIAISON, organization__isnull=False).values("organization_id")
    q |= Q(committee__in=Membership.objects.filter(member__in=units).values("organization_id"))
    if scopes.can(user, VIEW):
        q |= scopes.scope_q(user, VIEW, Meeting)
    return q


def personal_feed(user) -> bytes:
    name = f"共治 · {user.get_full_name() or user.username}"
    q = personal_q(user)
    return ics.build_calendar(name, _events(q, q))
