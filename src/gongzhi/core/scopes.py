"""The one place that decides who may do what where: roles × actions, and scopes as path prefixes.

A role assignment is (user, role, scope node). A scope node is a place, a grid or an
organisation; each carries a materialized path, so "inside my scope" is a prefix test in Python
and a prefix query (`path__startswith`) in SQL. Every selector and service asks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from gongzhi.accounts.models import Role
from gongzhi.core.errors import PermissionDenied

# The permission matrix: which role may perform which action (inside its scope).
# Actions are "<area>.<verb>"; tests walk this whole table.
ROLE_ACTIONS: dict[str, set[str]] = {
    Role.RESIDENT: set(),
    Role.PARTY_MEMBER: set(),
    Role.GRID_WORKER: {"registry.view"},
    Role.COMMUNITY_WORKER: {"registry.view", "registry.edit", "person.unmask", "export.ledger"},
    Role.STREET_OFFICER: {"registry.view", "registry.edit", "export.ledger"},
    Role.DEPARTMENT_HANDLER: {"registry.view"},
    Role.UNIT_LIAISON: {"registry.view"},
    Role.DISTRICT_ADMIN: {
        "registry.view",
        "registry.edit",
        "person.unmask",
        "grid.import",
        "export.ledger",
        "audit.view",
    },
    Role.AUDITOR: {"registry.view", "audit.view", "export.ledger"},
}

ALL_ACTIONS = sorted(set().union(*ROLE_ACTIONS.values()))


@dataclass(frozen=True)
class Scope:
    role: str
    kind: str  # "place" | "grid" | "org"
    path: str
    # For a grid scope: its community's place path (a grid role reaches that community's people).
    place_path: str = ""


def scopes_of(user) -> list[Scope]:
    """The user's role scopes, loaded once per user object (i.e. once per request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_gz_scopes", None)
    if cached is not None:
        return cached
    out = []
    for ra in user.role_assignments.select_related("place", "grid", "organization"):
        if ra.grid_id:
            out.append(Scope(ra.role, "grid", ra.grid.path, ra.grid.place_path))
        elif ra.organization_id:
            out.append(Scope(ra.role, "org", ra.organization.path))
        elif ra.place_id:
            out.append(Scope(ra.role, "place", ra.place.path))
    user._gz_scopes = out
    return out


def roles_of(user) -> set[str]:
    return {s.role for s in scopes_of(user)}


def _scopes_for(user, action: str) -> list[Scope]:
    return [s for s in scopes_of(user) if action in ROLE_ACTIONS.get(s.role, ())]


def _paths_of(obj) -> dict[str, str]:
    """The paths an object can be reached by: its place path, grid path and org path."""
    label = obj._meta.label_lower
    if label == "places.place":
        return {"place": obj.path}
    if label == "places.grid":
        return {"place": obj.place_path, "grid": obj.path}
    if label == "org.organization":
        return {"place": obj.place_path, "org": obj.path}
    if label == "org.person":
        return {"place": obj.place_path}
    if label == "org.post":
        node = obj.grid or obj.place or obj.organization
        return _paths_of(node)
    raise TypeError(f"no scope rule for {label}")


def _covers(scope: Scope, obj) -> bool:
    paths = _paths_of(obj)
    if scope.kind == "grid":
        # A grid role reaches its grid subtree, and the people and units of its community.
        if "grid" in paths:
            return paths["grid"].startswith(scope.path)
        return paths.get("place", "").startswith(scope.place_path)
    target = paths.get(scope.kind)
    return bool(target) and target.startswith(scope.path)


def can(user, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    scopes = _scopes_for(user, action)
    if obj is None:
        return bool(scopes)
    return any(_covers(s, obj) for s in scopes)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        from django.utils.translation import gettext as _

        raise PermissionDenied("forbidden", _("您没有权限执行此操作。"), {"action": action})


def scope_q(user, action: str, model) -> Q:
    """A filter restricting `model` rows to the user's scope for `action` (matches nothing if none)."""
    if user is not None and getattr(user, "is_superuser", False):
        return Q()
    label = model._meta.label_lower
    q = Q(pk__in=[])
    for s in _scopes_for(user, action):
        if s.kind == "place":
            if label == "places.place":
                q |= Q(path__startswith=s.path)
            elif label == "org.post":
                q |= (
                    Q(grid__place_path__startswith=s.path)
                    | Q(place__path__startswith=s.path)
                    | Q(organization__place_path__startswith=s.path)
                )
            else:
                q |= Q(place_path__startswith=s.path)
        elif s.kind == "grid":
            if label == "places.grid":
                q |= Q(path__startswith=s.path)
            elif label == "org.post":
                q |= Q(grid__path__startswith=s.path)
            elif label in ("org.person", "org.organization"):
                q |= Q(place_path__startswith=s.place_path)
        elif s.kind == "org":
            if label == "org.organization":
                q |= Q(path__startswith=s.path)
            elif label == "org.post":
                q |= Q(organization__path__startswith=s.path)
            elif label == "org.person":
                q |= Q(party__home_organization__path__startswith=s.path)
    return q


def restrict(qs, user, action: str = "registry.view"):
    """Every selector starts here: the queryset cut down to what the user may see."""
    return qs.filter(scope_q(user, action, qs.model))
