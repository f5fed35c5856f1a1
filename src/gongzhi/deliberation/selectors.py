"""Reads for deliberation pages and the API: which committees an actor sees, a year's roster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Membership, Organization, Person
from gongzhi.places.models import Place

from . import roster
from .models import ChairTerm, Meeting, MeetingSeries, SwapState
from .services import (
    CHAIR,
    COMMITTEE_KINDS,
    VIEW,
    can_view,
    check_year,
    committee_of,
    is_liaison_of,
    swaps_of,
)


def committees_visible_to(actor, q: str = ""):
    """Committees whose roster the actor follows: those in a viewing scope, and those its units belong to."""
    qs = Organization.objects.filter(kind__in=COMMITTEE_KINDS)
    if not getattr(actor, "is_superuser", False):
        mine = Q(pk__in=[])
        if scopes.can(actor, VIEW):
            mine |= scopes.scope_q(actor, VIEW, Organization)
        if scopes.can(actor, CHAIR):
            units = Organization.objects.filter(scopes.scope_q(actor, CHAIR, Organization)).values("pk")
            mine |= Q(pk__in=Membership.objects.filter(member__in=units).values("organization_id"))
        qs = qs.filter(mine)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(search_key__icontains=q.lower()))
    return qs.select_related("place").order_by("place_path", "name")


@dataclass
class MonthRow:
    month: dt.date
    term: ChairTerm | None
    mine: bool  # the actor is a liaison of this month's unit

    @property
    def published(self) -> bool:
        return self.term is not None and self.term.published


@dataclass
class RosterView:
    committee: Organization
    year: int
    months: list[MonthRow]
    drafts: bool  # the actor sees unpublished months (and may act on them, by role)
    swaps: list


def roster_of(actor, committee_id, year) -> RosterView:
    """A year's roster as the actor may see it: everything for managers, viewers and member units'
    liaisons; published months only for anyone else signed in."""
    committee = committee_of(committee_id)
    year = check_year(year)
    if not getattr(actor, "is_authenticated", False):
        raise NotFound("committee_not_found", _("找不到该联合党委。"))
    drafts = can_view(actor, committee)
    terms = {t.month: t for t in ChairTerm.objects.filter(committee=committee, month__year=year)
             .select_related("unit")}
    rows = []
    unit_mine: dict[int, bool] = {}
    for month in roster.months_of(year):
        term = terms.get(month)
        if term is not None and not drafts and not term.published:
            term = None
        mine = False
        if term is not None:
            if term.unit_id not in unit_mine:
                unit_mine[term.unit_id] = is_liaison_of(actor, term.unit) and not actor.is_superuser
            mine = unit_mine[term.unit_id]
        rows.append(MonthRow(month, term, mine))
    swaps = list(swaps_of(committee, year).filter(state=SwapState.PENDING)) if drafts else []
    return RosterView(committee, year, rows, drafts, swaps)


# ---- meetings ----

def _host_q(place=None, committee=None) -> Q:
    q = Q()
    if place and str(place).isdigit():
        host = Place.objects.filter(pk=int(place)).only("path").first()
        q &= Q(place_path__startswith=host.path) if host else Q(pk__in=[])
    if committee and str(committee).isdigit():
        q &= Q(committee_id=int(committee))
    return q


def meetings_for(actor, *, place=None, committee=None, upcoming=True):
    """Meetings anyone signed in may see (public sessions), filtered by host; upcoming first, or the
    past, latest first."""
    now = timezone.now()
    qs = Meeting.objects.filter(_host_q(place, committee)).select_related("place", "committee", "convener")
    if upcoming:
        return qs.filter(ends_at__gte=now).order_by("starts_at", "id")
    return qs.filter(ends_at__lt=now).order_by("-starts_at", "-id")


def series_for(actor, *, place=None, committee=None):
    return (MeetingSeries.objects.filter(_host_q(place, committee), active=True)
            .select_related("place", "committee").order_by("place_path", "id")[:50])


@dataclass
class Coming:
    occurrence: object  # recurrence.Occurrence
    meeting: Meeting | None
    cancelled: bool


def series_occurrences(series, start, end) -> list[Coming]:
    """The series' occurrences in [start, end) as planned (cancelled ones included, marked), each with its
    meeting row when materialised."""
    from .recurrence import occurrences
    from .services.meetings import as_recurrence

    rows = list(series.exceptions.all())
    cancelled = {e.original_start for e in rows if e.cancelled}
    moved_spec = as_recurrence(series, exceptions=[e for e in rows if not e.cancelled])
    meetings = {m.original_start: m for m in Meeting.objects.filter(series=series, original_start__gte=start)}
    return [Coming(o, meetings.get(o.original_start), o.original_start in cancelled)
            for o in occurrences(moved_spec, start, end)]


def home_community(user):
    person = Person.objects.filter(user=user).select_related("registered_community").first()
    return person.registered_community if person is not None else None
