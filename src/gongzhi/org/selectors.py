"""Reads of organisations, people and posts, always scoped to the actor."""

from __future__ import annotations

from gongzhi.core import scopes

from .models import Agreement, Membership, Organization, Person, Post


def people_visible_to(user, *, q: str = "", community: str = ""):
    qs = scopes.restrict(Person.objects.all(), user).select_related("registered_community", "party__home_organization")
    if q:
        qs = qs.filter(name__contains=q)
    if community:
        qs = qs.filter(registered_community__code=community)
    return qs.order_by("id")


def organizations_visible_to(user, *, kind: str = "", q: str = ""):
    qs = scopes.restrict(Organization.objects.all(), user).select_related("parent", "place")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("path")


def member_units_of(user, organization: Organization):
    return (
        Membership.objects.filter(organization=organization, organization__in=organizations_visible_to(user))
        .select_related("member")
        .prefetch_related("agreements")
        .order_by("member__name")
    )


def agreements_visible_to(user):
    orgs = organizations_visible_to(user)
    return Agreement.objects.filter(membership__organization__in=orgs).select_related(
        "membership__organization", "membership__member"
    )


def posts_visible_to(user, *, title: str = ""):
    qs = scopes.restrict(Post.objects.all(), user).select_related("person", "organization", "place", "grid")
    if title:
        qs = qs.filter(title=title)
    return qs.order_by("id")


def keyset_page(qs, *, after: int | None, limit: int):
    """Keyset pagination on id: constant cost at any depth (a 20,000-row page is a bug)."""
    limit = max(1, min(int(limit or 50), 200))
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs.order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
