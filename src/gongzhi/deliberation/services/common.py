"""What every deliberation service shares: the actions, the committee lookup, the liaisons."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role
from gongzhi.core import scopes
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.transactions import serialised
from gongzhi.org.models import Organization, OrgKind

MANAGE = "deliberation.manage"  # community workers and street officers: rosters, meetings, votes
VIEW = "deliberation.view"  # read-only over a scope (implied by manage; district admin, auditor)
CHAIR = "deliberation.chair"  # a unit's liaison: its chair months and swaps

# Organisations with member units, and so with a rotating chair.
COMMITTEE_KINDS = (OrgKind.JOINT_COMMITTEE, OrgKind.ALLIANCE, OrgKind.INDUSTRY_COMMITTEE)


def busy(fn):
    return serialised(fn, _("系统正忙，有人正在办理同一事项，请稍后重试。"))


def committee_of(committee_id) -> Organization:
    """A joint committee (or alliance) by id; a clear 404 for anything else."""
    try:
        committee = Organization.objects.get(pk=int(committee_id), kind__in=COMMITTEE_KINDS)
    except (Organization.DoesNotExist, TypeError, ValueError):
        raise NotFound("committee_not_found", _("找不到该联合党委。")) from None
    return committee


def check_year(year) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        value = 0
    if not 2000 <= value <= 2100:
        raise ValidationFailed("year_invalid", _("年份应在 2000 至 2100 之间。"), {"field": "year"})
    return value


def liaisons_of(unit_ids) -> list:
    """The active accounts holding the liaison role on any of these units (whom a chair month concerns)."""
    return list(get_user_model().objects.filter(
        is_active=True, role_assignments__role=Role.UNIT_LIAISON,
        role_assignments__organization_id__in=list(unit_ids)).distinct())


def is_liaison_of(actor, unit) -> bool:
    return scopes.can(actor, CHAIR, unit)
