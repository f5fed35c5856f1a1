"""Reads of organisations, people and posts, always scoped to the actor."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.places.models import Grid, Place

from .models import Agreement, AgreementStatus, Membership, MembershipStatus, Organization, Person, Post

VIEW = "registry.view"


def people_visible_to(user, *, q: str = "", community: str = "", action: str = VIEW):
    qs = scopes.restrict(Person.objects.all(), user, action).select_related(
        "registered_community", "party__home_organization"
    )
    if q:
        qs = qs.filter(name__contains=q)
    if community:
        qs = qs.filter(registered_community__code=community)
    return qs.order_by("id")


def person_get_for(user, person_id) -> Person:
    """One person in the user's scope; the same 404 for "missing" and "not yours"."""
    person = people_visible_to(user).filter(pk=person_id).first()
    if person is None:
        raise NotFound("no_person", _("人员不存在或不在您的范围内。"))
    return person


def organizations_visible_to(user, *, kind: str = "", q: str = "", action: str = VIEW):
    qs = scopes.restrict(Organization.objects.all(), user, action).select_related("parent", "place")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("path")


def organization_get_for(user, organization_id, *, action: str = VIEW) -> Organization:
    org = organizations_visible_to(user, action=action).filter(pk=organization_id).first()
    if org is None:
        raise NotFound("no_organization", _("组织不存在或不在您的范围内。"))
    return org


def _agreements_newest_first():
    return Prefetch("agreements", queryset=Agreement.objects.order_by("-starts_on", "-id"))


def member_units_of(user, organization: Organization):
    return (
        Membership.objects.filter(organization=organization, organization__in=organizations_visible_to(user))
        .select_related("member")
        .prefetch_related(_agreements_newest_first())
        .order_by("member__name")
    )


def memberships_of_member(user, organization: Organization):
    """The joint committees and alliances this organisation is a member unit of (those the user sees)."""
    return (
        Membership.objects.filter(member=organization, organization__in=organizations_visible_to(user))
        .select_related("organization")
        .prefetch_related(_agreements_newest_first())
        .order_by("organization__name")
    )


def agreements_visible_to(user, *, q: str = "", action: str = VIEW):
    orgs = organizations_visible_to(user, action=action)
    qs = Agreement.objects.filter(membership__organization__in=orgs).select_related(
        "membership__organization", "membership__member"
    )
    if q:
        qs = qs.filter(Q(membership__member__name__contains=q) | Q(number__contains=q))
    return qs


def agreements_expiring_for(user, *, organization: Organization | None = None, within_days: int | None = None,
                            today=None):
    """The reminder box: signed agreements in the user's scope ending within the reminder window."""
    from . import services

    days = settings.AGREEMENT_REMINDER_DAYS if within_days is None else within_days
    qs = services.agreements_expiring(within_days=days, today=today).filter(
        membership__organization__in=organizations_visible_to(user)
    )
    if organization is not None:
        qs = qs.filter(Q(membership__organization=organization) | Q(membership__member=organization))
    return qs.select_related("membership__organization", "membership__member").order_by("ends_on", "id")


def agreement_get_for(user, agreement_id) -> Agreement:
    """One agreement of a committee in the user's scope; the same 404 for "missing" and "not yours"."""
    agreement = agreements_visible_to(user).filter(pk=agreement_id).first()
    if agreement is None:
        raise NotFound("no_agreement", _("协议不存在或不在您的范围内。"))
    return agreement


def agreements_lapsed_for(user, *, organization: Organization | None = None, today=None):
    """The warning box: agreements whose term has ended while the unit is still an active member and no
    current agreement replaces them (expired by the sweep, or signed and past their end date)."""
    from django.utils import timezone

    today = today or timezone.localdate()
    current = Agreement.objects.filter(membership=OuterRef("membership"), ends_on__gte=today,
                                       status__in=(AgreementStatus.SIGNED, AgreementStatus.DRAFT))
    later = Agreement.objects.filter(membership=OuterRef("membership"), starts_on__gt=OuterRef("starts_on")).exclude(
        status=AgreementStatus.TERMINATED)
    qs = (
        Agreement.objects.filter(membership__organization__in=organizations_visible_to(user),
                                 membership__status=MembershipStatus.ACTIVE)
        .filter(Q(status=AgreementStatus.EXPIRED) | Q(status=AgreementStatus.SIGNED, ends_on__lt=today))
        .exclude(Exists(current))
        .exclude(Exists(later))  # only the newest lapsed agreement of a membership
    )
    if organization is not None:
        qs = qs.filter(Q(membership__organization=organization) | Q(membership__member=organization))
    return qs.select_related("membership__organization", "membership__member").order_by("ends_on", "id")


def posts_visible_to(user, *, title: str = "", q: str = "", action: str = VIEW):
    qs = scopes.restrict(Post.objects.all(), user, action).select_related("person", "organization", "place", "grid")
    if title:
        qs = qs.filter(title=title)
    if q:
        qs = qs.filter(person__name__contains=q)
    return qs.order_by("id")


def post_get_for(user, post_id) -> Post:
    post = posts_visible_to(user).filter(pk=post_id).first()
    if post is None:
        raise NotFound("no_post", _("职务不存在或不在您的范围内。"))
    return post


def places_editable_by(user, *, kinds=("district", "street", "community", "compound")):
    """Places the user may register things at (for suggestion lists in forms)."""
    return scopes.restrict(Place.objects.filter(kind__in=kinds), user, "registry.edit").order_by("path")


def place_by_code(code: str) -> Place:
    place = Place.objects.filter(code=(code or "").strip()).first()
    if place is None:
        raise ValidationFailed("no_place", _("区划代码 %(code)s 不存在。") % {"code": code})
    return place


def grid_by_code(code: str) -> Grid:
    grid = Grid.objects.filter(code=(code or "").strip(), retired_at__isnull=True).select_related("community").first()
    if grid is None:
        raise ValidationFailed("no_grid", _("网格编码 %(code)s 不存在。") % {"code": code})
    return grid


def keyset_page(qs, *, after: int | None, limit: int):
    """Keyset pagination on id: constant cost at any depth (a 20,000-row page is a bug)."""
    limit = max(1, min(int(limit or 50), 200))
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs.order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
