"""Shared bits of the edit tests: a member unit with its agreement, audit look-ups, PII checks."""

from __future__ import annotations

import json

from gongzhi.core.models import AuditEntry
from gongzhi.org import services
from gongzhi.org.models import Agreement, Organization, Person, Post


def unit_agreement(reg, *, number="BN-2025-001", starts_on="2025-01-01", ends_on="2027-12-31", name="南宁供电局",
                   duties=("认领微心愿",), commitments=("会议室每月 4 次",), organization=None) -> Agreement:
    return services.member_unit_join(actor=reg.admin, organization=organization or reg.joint, unit_name=name,
                                     unit_kind="state_enterprise", number=number, starts_on=starts_on,
                                     ends_on=ends_on, duties=list(duties), commitments=list(commitments))


def secretary(reg, person=None, *, starts_on="2024-01-01", ends_on=None, organization=None) -> Post:
    return services.post_assign(actor=reg.admin, person=person or reg.zhang, title="secretary", starts_on=starts_on,
                                ends_on=ends_on, organization=organization or reg.joint)


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def only_entry(action: str) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, [(e.action, e.before, e.after) for e in found]
    return found[0]


def trail_text() -> str:
    """Every audit entry's before/after as one string: clear personal numbers must never be in it."""
    return json.dumps([[e.before, e.after] for e in AuditEntry.objects.all()], ensure_ascii=False)


def snapshot(obj):
    """A row's stored state, to prove a refused edit changed nothing."""
    model = type(obj)
    row = model.objects.filter(pk=obj.pk).values().get()
    if model is Person:
        party = getattr(Person.objects.select_related("party").get(pk=obj.pk), "party", None)
        row["party"] = (party.status, party.home_organization_id, party.joined_on) if party else None
    if model is Organization:
        row["subtree"] = sorted(Organization.objects.filter(path__startswith=obj.path).values_list("pk", "path"))
    if model is Agreement:
        row["membership"] = obj.membership.__class__.objects.filter(pk=obj.membership_id).values().get()
        row["agreements"] = Agreement.objects.count()
    return row, AuditEntry.objects.count()
