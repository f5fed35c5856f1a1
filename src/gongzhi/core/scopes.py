"""The one place that decides who may do what where: roles × actions, and scopes as path prefixes.

A role assignment is (user, role, scope node). A scope node is a place, a grid or an
organisation; each carries a materialized path, so "inside my scope" is a prefix test in Python
and a prefix query (`path__startswith`) in SQL. Every selector and service asks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from gongzhi.accounts.models import Role
from gongzhi.core.errors import PermissionDenied

# The permission matrix: which role may perform which action (inside its scope).
# Actions are "<area>.<verb>"; tests walk this whole table.
ROLE_ACTIONS: dict[str, set[str]] = {
    # Residents and party members act on their own things (their needs, sign-ups, time credits);
    # "lists.take" lets a party member claim and accept orders as an individual taker.
    Role.RESIDENT: set(),
    Role.PARTY_MEMBER: {"lists.take"},
    Role.GRID_WORKER: {"registry.view", "appeal.handle", "kpi.view", "lists.record"},
    Role.COMMUNITY_WORKER: {"registry.view", "registry.edit", "person.unmask", "export.ledger", "appeal.handle",
                            "appeal.dispatch", "kpi.view", "lists.record", "lists.dispatch", "volunteer.manage",
                            "timebank.manage", "deliberation.manage"},
    Role.STREET_OFFICER: {"registry.view", "registry.edit", "export.ledger", "appeal.handle", "appeal.dispatch",
                          "kpi.view", "lists.record", "lists.dispatch", "volunteer.manage", "timebank.view",
                          "deliberation.manage"},
    Role.DEPARTMENT_HANDLER: {"registry.view", "workorder.handle", "kpi.view"},
    # A liaison offers its unit's resources and claims projects for it, organises its activities and
    # speaks for it on the rotating chair (its months, swaps).
    Role.UNIT_LIAISON: {"registry.view", "workorder.handle", "kpi.view", "lists.take", "volunteer.organise",
                        "deliberation.chair"},
    Role.DISTRICT_ADMIN: {
        "registry.view",
        "registry.edit",
        "person.unmask",
        "grid.import",
        "export.ledger",
        "audit.view",
        "accounts.manage",
        "kpi.view",
        "lists.view",
        "volunteer.view",
        "timebank.view",
        "deliberation.view",
    },
    Role.AUDITOR: {"registry.view", "audit.view", "export.ledger", "kpi.view", "lists.view", "volunteer.view",
                   "timebank.view", "deliberation.view"},
}

# Actions that imply a read-only one: whoever may dispatch or manage may also view.
IMPLIED: dict[str, set[str]] = {
    "lists.view": {"lists.record", "lists.dispatch"},
    "volunteer.view": {"volunteer.manage"},
    "timebank.view": {"timebank.manage"},
    "deliberation.view": {"deliberation.manage"},
}
for _view, _stronger in IMPLIED.items():
    for _actions in ROLE_ACTIONS.values():
        if _actions & _stronger:
            _actions.add(_view)

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
    # Only the paths: this runs on every request, and a grid row carries its whole outline.
    for role, grid_id, grid_path, grid_place_path, org_id, org_path, place_id, place_path in (
            user.role_assignments.values_list("role", "grid_id", "grid__path", "grid__place_path", "organization_id",
                                              "organization__path", "place_id", "place__path")):
        if grid_id:
            out.append(Scope(role, "grid", grid_path, grid_place_path))
        elif org_id:
            out.append(Scope(role, "org", org_path))
        elif place_id:
            out.append(Scope(role, "place", place_path))
    user._gz_scopes = out
    return out


def roles_of(user) -> set[str]:
    return {s.role for s in scopes_of(user)}


# Roles that only read and check: they are offered no form that creates anything (menus, home).
READ_ONLY_ROLES = frozenset({Role.AUDITOR})


def read_only(user) -> bool:
    """A user whose every role is read-only (an auditor): no submit forms are offered to them."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    roles = roles_of(user)
    return bool(roles) and roles <= READ_ONLY_ROLES


def _scopes_for(user, action: str) -> list[Scope]:
    return [s for s in scopes_of(user) if action in ROLE_ACTIONS.get(s.role, ())]


def _paths_of(obj) -> dict[str, str]:
    """The paths an object can be reached by: its place path, grid path and org path."""
    # Models of later apps say how they are reached themselves: scope_paths() returns the same
    # {"place": ..., "grid": ..., "org": ...} shape (only the keys that apply).
    if hasattr(obj, "scope_paths"):
        return obj.scope_paths()
    label = obj._meta.label_lower
    if label == "places.place":
        return {"place": obj.path}
    if label == "places.grid":
        return {"place": obj.place_path, "grid": obj.path}
    if label == "org.organization":
        return {"place": obj.place_path, "org": obj.path}
    if label == "org.person":
        return {"place": obj.place_path}
    if label in ("org.post", "accounts.roleassignment"):
        # Both hang on one scope node (grid, place or organisation) and are reached through it.
        node = obj.grid or obj.place or obj.organization
        return _paths_of(node)
    raise TypeError(f"no scope rule for {label}")


def _is_user(obj_or_model) -> bool:
    return obj_or_model._meta.label_lower == settings.AUTH_USER_MODEL.lower()


def _path_sets(obj) -> list[dict[str, str]]:
    """Every way an object can be reached. Most objects hang on one node; a user account is reached
    through each of its role assignments and through the person it is linked to."""
    if not _is_user(obj):
        return [_paths_of(obj)]
    if "role_assignments" in getattr(obj, "_prefetched_objects_cache", {}):
        assignments = obj.role_assignments.all()
    else:
        assignments = obj.role_assignments.select_related("place", "grid", "organization")
    out = [_paths_of(ra) for ra in assignments]
    person = getattr(obj, "person", None)  # the reverse one-to-one raises an AttributeError when unset
    if person is not None:
        out.append(_paths_of(person))
    return out


def _covers_paths(scope: Scope, paths: dict[str, str]) -> bool:
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
    if not scopes:
        return False
    path_sets = _path_sets(obj)
    return any(_covers_paths(s, paths) for s in scopes for paths in path_sets)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        from django.utils.translation import gettext as _

        raise PermissionDenied("forbidden", _("您没有权限执行此操作。"), {"action": action})


def scope_q(user, action: str, model) -> Q:
    """A filter restricting `model` rows to the user's scope for `action` (matches nothing if none)."""
    if user is not None and getattr(user, "is_superuser", False):
        return Q()
    if _is_user(model):
        # Accounts holding a role on a node in scope, or linked to a person in scope.
        from gongzhi.accounts.models import RoleAssignment
        from gongzhi.org.models import Person

        by_role = RoleAssignment.objects.filter(scope_q(user, action, RoleAssignment)).values("user_id")
        by_person = Person.objects.filter(scope_q(user, action, Person), user__isnull=False).values("user_id")
        return Q(pk__in=by_role) | Q(pk__in=by_person)
    label = model._meta.label_lower
    q = Q(pk__in=[])
    for s in _scopes_for(user, action):
        if s.kind == "place":
            if label == "places.place":
                q |= Q(path__startswith=s.path)
            elif label in ("org.post", "accounts.roleassignment"):
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
            elif label == "accounts.roleassignment":
                # As in _covers_paths: the grid subtree, or places and units of the grid's community.
                q |= (
                    Q(grid__path__startswith=s.path)
                    | Q(grid__isnull=True, place__path__startswith=s.place_path)
                    | Q(grid__isnull=True, organization__place_path__startswith=s.place_path)
                )
            elif label in ("org.person", "org.organization", "places.landmark"):
                q |= Q(place_path__startswith=s.place_path)
        elif s.kind == "org":
            if label == "org.organization":
                q |= Q(path__startswith=s.path)
            elif label in ("org.post", "accounts.roleassignment"):
                q |= Q(organization__path__startswith=s.path)
            elif label == "org.person":
                q |= Q(party__home_organization__path__startswith=s.path)
    return q


def restrict(qs, user, action: str = "registry.view"):
    """Every selector starts here: the queryset cut down to what the user may see."""
    return qs.filter(scope_q(user, action, qs.model))
