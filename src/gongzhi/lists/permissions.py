"""Who stands in which relation to a need or a project, and what they may do to it now.

Scopes come only from core.scopes; the relations are those named in workflow.py.
"""

from __future__ import annotations

from gongzhi.accounts.models import Role
from gongzhi.core import scopes
from gongzhi.org.models import Organization, Person

from . import workflow
from .workflow import ANYONE, DISPATCHER, PROJECT_TAKER, RECORDER, REQUESTER, TAKER


def signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def person_of(user) -> Person | None:
    if not signed_in(user):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def is_party_member(user) -> bool:
    return signed_in(user) and (Role.PARTY_MEMBER in scopes.roles_of(user) or user.is_superuser)


def liaison_org_paths(user) -> list[str]:
    """The organisation scopes on which the user takes orders (unit liaisons)."""
    return [s.path for s in scopes.scopes_of(user) if s.kind == "org" and "lists.take" in scopes.ROLE_ACTIONS.get(
        s.role, ())]


def taker_units(user) -> list[Organization]:
    """The units the user may claim for or answer dispatches of: those of its liaison scopes."""
    paths = liaison_org_paths(user)
    if not paths:
        return []
    return list(Organization.objects.filter(path__in=paths).order_by("name"))


def can_take_for_person(user) -> bool:
    return is_party_member(user) and person_of(user) is not None


def is_taker(user) -> bool:
    return can_take_for_person(user) or bool(liaison_org_paths(user)) or (
        signed_in(user) and user.is_superuser)


def speaks_for_org(user, org) -> bool:
    if org is None or not signed_in(user):
        return False
    if user.is_superuser:
        return True
    return any(org.path.startswith(p) for p in liaison_org_paths(user))


def speaks_for_team(user, team) -> bool:
    if team is None or not signed_in(user):
        return False
    if user.is_superuser:
        return True
    if team.leader_id is not None and team.leader.user_id == user.pk:
        return True
    return team.unit_id is not None and speaks_for_org(user, team.unit)


def speaks_for_person(user, person) -> bool:
    return person is not None and signed_in(user) and person.user_id == user.pk


def need_relations(actor, need) -> set[str]:
    if not signed_in(actor):
        return set()
    rel = {ANYONE}
    if need.requester_id is not None and need.requester_id == actor.pk:
        rel.add(REQUESTER)
    if need.pk is not None or need.place_path:
        if scopes.can(actor, "lists.record", need):
            rel.add(RECORDER)
        if scopes.can(actor, "lists.dispatch", need):
            rel.add(DISPATCHER)
    if is_taker(actor):
        rel.add(TAKER)
    return rel


def project_relations(actor, project) -> set[str]:
    if not signed_in(actor):
        return set()
    rel = {ANYONE}
    if (speaks_for_person(actor, project.taker_person) or speaks_for_org(actor, project.taker_organization)
            or speaks_for_team(actor, project.taker_team)):
        rel.add(PROJECT_TAKER)
    if scopes.can(actor, "lists.dispatch", project):
        rel.add(DISPATCHER)
    return rel


def need_actions(actor, need) -> list[str]:
    """The actions the need table allows this actor now (for pages and the API)."""
    rel = need_relations(actor, need)
    out = []
    for t in workflow.NEED_TABLE:
        if t.source == need.state and t.roles & rel and t.allows(need) and t.action not in out:
            out.append(t.action)
    return out


def project_actions(actor, project) -> list[str]:
    rel = project_relations(actor, project)
    out = []
    for t in workflow.PROJECT_TABLE:
        if t.source == project.state and t.roles & rel and t.allows(project) and t.action not in out:
            out.append(t.action)
    return out


# Who may see a need or a project is one rule, in selectors.needs_visible_to / projects_visible_to,
# used by the lists and (through services.need_get_for / project_get_for) by every detail alike.


def can_edit_resource(actor, resource) -> bool:
    """The owner (its member, a liaison of its unit, its team's leader) or list staff in scope."""
    if not signed_in(actor):
        return False
    if actor.is_superuser:
        return True
    if (speaks_for_person(actor, resource.person) or speaks_for_org(actor, resource.organization)
            or speaks_for_team(actor, resource.team)):
        return True
    return scopes.can(actor, "lists.record", resource)
