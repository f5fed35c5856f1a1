"""Reads of accounts, role assignments and tokens, always scoped to the actor."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, Q
from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import NotFound

from .models import ApiToken, RoleAssignment

MANAGE = "accounts.manage"


def _assignments():
    return Prefetch("role_assignments",
                    queryset=RoleAssignment.objects.select_related("place", "grid", "organization").order_by("id"))


def users_visible_to(actor, *, q: str = ""):
    """Accounts with a role on a node inside the actor's scope, or linked to a person inside it."""
    qs = scopes.restrict(get_user_model().objects.all(), actor, MANAGE).select_related("person").prefetch_related(
        _assignments())
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(first_name__icontains=q))
    return qs.order_by("id")


def user_get_for(actor, user_id):
    """One account in the actor's scope; the same 404 for "missing" and "not yours"."""
    user = users_visible_to(actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound("no_user", _("账号不存在或不在您的范围内。"))
    return user


def roles_split(actor, user) -> tuple[list[RoleAssignment], int]:
    """The user's roles the actor may see and manage, and how many more lie outside their scope
    (counted, never named: another district's scopes are not this administrator's business)."""
    inside, outside = [], 0
    for ra in user.role_assignments.all():  # prefetched with their scope nodes by users_visible_to
        if scopes.can(actor, MANAGE, ra):
            inside.append(ra)
        else:
            outside += 1
    return inside, outside


def assignment_get_for(actor, assignment_id) -> RoleAssignment:
    ra = (
        scopes.restrict(RoleAssignment.objects.all(), actor, MANAGE)
        .select_related("user", "place", "grid", "organization")
        .filter(pk=assignment_id)
        .first()
    )
    if ra is None:
        raise NotFound("no_role", _("角色不存在或不在您的范围内。"))
    return ra


def tokens_of(user):
    """A user's tokens, live ones first, newest first."""
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")


def token_get_for(actor, token_id) -> ApiToken:
    """The actor's own token, or one whose owner the actor manages; otherwise 404."""
    tok = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if tok is not None and (tok.user_id == actor.pk or users_visible_to(actor).filter(pk=tok.user_id).exists()):
        return tok
    raise NotFound("no_token", _("令牌不存在。"))


def keyset_page(qs, *, after: int | None, limit: int):
    """Keyset pagination on id: constant cost at any depth (same contract as org.selectors)."""
    limit = max(1, min(int(limit or 50), 200))
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs.order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def lockouts_visible_to(actor) -> dict:
    """Account names and client addresses locked out for failed sign-ins, for the unlock page.

    A district administrator sees the locked accounts in their scope and every locked address (an
    address is nobody's account: a shared office or school network locks all its users at once);
    a superuser also sees locked names that belong to no account.
    """
    from . import lockout

    scopes.require(actor, MANAGE)
    names = lockout.locked_usernames()
    if not actor.is_superuser:
        mine = set(users_visible_to(actor).filter(username__in=[n.value for n in names])
                   .values_list("username", flat=True))
        names = [n for n in names if n.value in mine]
    return {"usernames": names, "addresses": lockout.locked_addresses()}
