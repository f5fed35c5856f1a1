"""Who may see an appeal and what they may do to it now, from core.scopes and the workflow table.

Scopes come only from `core.scopes.scopes_of(user)` (loaded once per request): a grid scope
covers an appeal whose micro grid path starts with it, a place scope one whose community path
starts with it. Organisation scopes (department handlers, unit liaisons) reach work orders whose
summoned organisation's path starts with theirs, and through them the appeals they were summoned to.
"""

from __future__ import annotations

from django.db.models import Q

from gongzhi.core.scopes import ROLE_ACTIONS, scopes_of

from . import workflow
from .models import WhistleSummons
from .workflow import (
    ANYONE,
    ASSIGNEE,
    CALLBACK,
    COMMUNITY_WORKER,
    LEVEL_ROLE,
    LEVEL_STAFF,
    OWNER,
    REPORTER,
    STREET_OFFICER,
    SYSTEM,
)

# Roles whose scope lets them read the appeals inside it.
VIEW_ROLES = frozenset({"grid_worker", "community_worker", "street_officer", "district_admin", "auditor"})
# Roles that act on appeals (assisted entry, patrol reports, inboxes).
STAFF_ROLES = frozenset({"grid_worker", "community_worker", "street_officer"})
ROLE_LEVEL = {role: level for level, role in LEVEL_ROLE.items()}
# Roles held on an organisation that answer whistles: report for duty, submit results.
ORG_ROLES = frozenset({"department_handler", "unit_liaison"})


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def scope_covers(scope, appeal) -> bool:
    if scope.kind == "grid":
        return bool(appeal.grid_path) and appeal.grid_path.startswith(scope.path)
    if scope.kind == "place":
        return bool(appeal.place_path) and appeal.place_path.startswith(scope.path)
    return False


def scope_q(scope) -> Q:
    """The same test as scope_covers, as a filter on Appeal."""
    if scope.kind == "grid":
        return Q(grid_path__startswith=scope.path)
    if scope.kind == "place":
        return Q(place_path__startswith=scope.path)
    return Q(pk__in=[])


def roles_covering(user, appeal) -> set[str]:
    """The user's roles whose scope covers the appeal."""
    return {s.role for s in scopes_of(user) if scope_covers(s, appeal)}


def _base_relations(actor) -> set[str]:
    """What any actor is before its tie to the object: the system (no user), nobody (signed out), or
    anyone signed in (a superuser also counts as the system)."""
    if actor is None:
        return {SYSTEM}
    if not _signed_in(actor):
        return set()
    return {ANYONE, SYSTEM} if getattr(actor, "is_superuser", False) else {ANYONE}


def relations(actor, appeal) -> set[str]:
    """The actor's relations to the appeal, in the vocabulary of workflow.TABLE's roles."""
    rel = _base_relations(actor)
    if actor is None or not rel:
        return rel
    if appeal.reporter_id is not None and appeal.reporter_id == actor.pk:
        rel.add(REPORTER)
    if appeal.owner_id is not None and appeal.owner_id == actor.pk:
        rel.add(OWNER)
    roles = roles_covering(actor, appeal)
    rel |= roles
    if LEVEL_ROLE.get(appeal.owner_level) in roles:
        rel.add(LEVEL_STAFF)
    if appeal.reporter_id is None and appeal.reporter_name_enc and (
            actor.pk == appeal.submitted_by_id or COMMUNITY_WORKER in roles):
        rel.add(CALLBACK)
    return rel


def org_scopes(actor) -> list:
    """The actor's department-handler / unit-liaison scopes (organisation paths)."""
    if not _signed_in(actor):
        return []
    return [s for s in scopes_of(actor) if s.kind == "org" and s.role in ORG_ROLES]


def assignee_q(actor) -> Q:
    """A filter on WhistleSummons: work orders summoning the actor's organisations (or ones below them)."""
    q = Q(pk__in=[])
    for s in org_scopes(actor):
        q |= Q(assignee_path__startswith=s.path)
    return q


def is_assignee(actor, work_order) -> bool:
    return any(work_order.assignee_path.startswith(s.path) for s in org_scopes(actor))


def can_view(actor, appeal) -> bool:
    if actor is None:
        return True  # the system
    if not _signed_in(actor):
        return False
    if actor.is_superuser:
        return True
    if actor.pk in (appeal.reporter_id, appeal.owner_id, appeal.submitted_by_id):
        return True
    if roles_covering(actor, appeal) & VIEW_ROLES:
        return True
    # An organisation summoned to the appeal (whatever became of its work order) may read it.
    return bool(org_scopes(actor)) and WhistleSummons.objects.filter(assignee_q(actor), appeal_id=appeal.pk).exists()


def visible_q(actor) -> Q:
    """A filter on Appeal matching exactly what can_view allows."""
    if actor is None or getattr(actor, "is_superuser", False):
        return Q()
    if not _signed_in(actor):
        return Q(pk__in=[])
    q = Q(reporter=actor) | Q(owner=actor) | Q(submitted_by=actor)
    for s in scopes_of(actor):
        if s.role in VIEW_ROLES:
            q |= scope_q(s)
    if org_scopes(actor):
        q |= Q(pk__in=WhistleSummons.objects.filter(assignee_q(actor)).values("appeal_id"))
    return q


def reporter_visible(actor, appeal) -> bool:
    """The reporter's identity: to the reporter always; to staff unless the appeal is anonymous."""
    if actor is not None and appeal.reporter_id is not None and appeal.reporter_id == actor.pk:
        return True
    return not appeal.anonymous


def is_staff_in_scope(actor, appeal, roles=STAFF_ROLES) -> bool:
    return _signed_in(actor) and (getattr(actor, "is_superuser", False) or bool(roles_covering(actor, appeal) & roles))


def allowed_actions(actor, appeal) -> list[str]:
    """What the actor may do to the appeal now, in table order (the page and the API render these)."""
    rel = relations(actor, appeal)
    out = []
    for t in workflow.TABLE:
        if t.source == appeal.state and t.roles & rel and t.allows(appeal) and t.action not in out:
            out.append(t.action)
    return out


# ---- work orders ----

def summons_relations(actor, work_order) -> set[str]:
    """The actor's relations to a work order, in the vocabulary of workflow.SUMMONS_TABLE's roles."""
    rel = _base_relations(actor)
    if actor is None or not rel:
        return rel
    if is_assignee(actor, work_order):
        rel.add(ASSIGNEE)
    if STREET_OFFICER in roles_covering(actor, work_order.appeal):
        rel.add(STREET_OFFICER)
    return rel


def can_view_work_order(actor, work_order) -> bool:
    """The summoned organisation, and staff whose place scope covers the appeal. Another organisation
    summoned to the same appeal sees the appeal, not this work order."""
    if actor is None:
        return True
    if not _signed_in(actor):
        return False
    if actor.is_superuser or is_assignee(actor, work_order):
        return True
    return bool(roles_covering(actor, work_order.appeal) & VIEW_ROLES)


def work_order_visible_q(actor) -> Q:
    """A filter on WhistleSummons matching exactly what can_view_work_order allows."""
    if actor is None or getattr(actor, "is_superuser", False):
        return Q()
    if not _signed_in(actor):
        return Q(pk__in=[])
    q = assignee_q(actor)
    for s in scopes_of(actor):
        if s.role in VIEW_ROLES:
            if s.kind == "grid":
                q |= Q(appeal__grid_path__startswith=s.path)
            elif s.kind == "place":
                q |= Q(appeal__place_path__startswith=s.path)
    return q


def allowed_work_order_actions(actor, work_order) -> list[str]:
    """What the actor may do to the work order now, in table order (the page and the API render these)."""
    rel = summons_relations(actor, work_order)
    out = []
    for t in workflow.SUMMONS_TABLE:
        if t.source == work_order.state and t.roles & rel and t.allows(work_order) and t.action not in out:
            out.append(t.action)
    return out


def can_whistle(actor, appeal) -> bool:
    return workflow.Action.WHISTLE in allowed_actions(actor, appeal)


# Roles that may read personal data in clear (the same matrix entry as for people: person.unmask).
UNMASK_ROLES = frozenset(role for role, acts in ROLE_ACTIONS.items() if "person.unmask" in acts)


def can_unmask_reporter(actor, appeal) -> bool:
    """Staff whose role covering the appeal may read personal data, on an assisted, non-anonymous appeal."""
    return (appeal.reporter_id is None and reporter_visible(actor, appeal)
            and is_staff_in_scope(actor, appeal, roles=UNMASK_ROLES))
