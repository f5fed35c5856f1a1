"""Writes to organisations, memberships, agreements, people and posts; and the unmasked read."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.core import audit, pii, scopes
from gongzhi.core.errors import Conflict, ValidationFailed
from gongzhi.core.models import PiiAccess
from gongzhi.places.models import Place, PlaceKind

from .models import (
    SINGLE_HOLDER_TITLES,
    UNIT_KINDS,
    Agreement,
    Membership,
    MembershipRole,
    MembershipStatus,
    Organization,
    OrgKind,
    PartyMembership,
    PartyStatus,
    Person,
    Post,
    PostTitle,
)

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")


def _parse_date(value, field_label) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationFailed(
            "bad_date", _("%(field)s 日期格式不正确，应为 YYYY-MM-DD：%(value)s") % {"field": field_label, "value": value}
        ) from None


def validate_id_number(value: str) -> str:
    """GB 11643 check digit, so a mistyped ID is caught at the door."""
    v = value.strip().upper()
    if not ID_RE.match(v):
        raise ValidationFailed("bad_id_number", _("身份证号应为 18 位（最后一位可为 X）。"))
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(v[:17], weights, strict=True))
    if "10X98765432"[total % 11] != v[17]:
        raise ValidationFailed("bad_id_number", _("身份证号校验位不正确，请核对。"))
    return v


def validate_phone(value: str) -> str:
    v = re.sub(r"[\s-]", "", value or "")
    if not PHONE_RE.match(v):
        raise ValidationFailed("bad_phone", _("手机号应为 11 位数字，以 1 开头：%(value)s") % {"value": value})
    return v


def community_by_code(code: str) -> Place:
    place = Place.objects.filter(code=str(code).strip(), kind=PlaceKind.COMMUNITY).first()
    if place is None:
        raise ValidationFailed("no_community", _("社区 %(code)s 不存在，请填写已登记社区的 12 位区划代码。") % {"code": code})
    return place


def person_create(
    *,
    actor,
    name: str,
    phone: str = "",
    id_number: str = "",
    gender: str = "",
    registered_community: Place | None = None,
    home_organization: Organization | None = None,
    party_status: str | None = None,
    joined_on=None,
    audit_entry: bool = True,
) -> Person:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ValidationFailed("bad_name", _("姓名不能为空，且不超过 50 个字。"))
    if gender not in ("", "M", "F"):
        raise ValidationFailed("bad_gender", _("性别只能是 男 或 女。"))
    phone = validate_phone(phone) if phone else ""
    id_number = validate_id_number(id_number) if id_number else ""
    if registered_community is not None and registered_community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed("no_community", _("登记社区必须是一个社区。"))
    if party_status and party_status not in PartyStatus.values:
        raise ValidationFailed("bad_party_status", _("党员状态只能是 在职、退休 或 流动。"))
    if party_status and home_organization is None:
        raise ValidationFailed("home_org_required", _("党员必须填写组织关系所在党组织。"))
    scope_obj = registered_community or (home_organization if home_organization else None)
    if scope_obj is not None:
        scopes.require(actor, "registry.edit", scope_obj)
    else:
        scopes.require(actor, "registry.edit")
    id_hash = pii.lookup_hash(id_number)
    duplicate = Conflict("duplicate_person", _("身份证号 %(masked)s 已登记。") % {"masked": pii.mask_id(id_number)})
    with transaction.atomic():
        if id_hash and Person.objects.filter(id_hash=id_hash).exists():
            raise duplicate
        try:
            # A savepoint: a concurrent twin hits the unique index and becomes the same clear 409.
            with transaction.atomic():
                person = Person.objects.create(
                    name=name,
                    gender=gender,
                    phone_enc=pii.encrypt(phone),
                    phone_hash=pii.lookup_hash(phone),
                    phone_masked=pii.mask_phone(phone),
                    id_enc=pii.encrypt(id_number),
                    id_hash=id_hash,
                    id_masked=pii.mask_id(id_number),
                    registered_community=registered_community,
                )
        except IntegrityError:
            raise duplicate from None
        if party_status:
            PartyMembership.objects.create(
                person=person,
                home_organization=home_organization,
                status=party_status,
                joined_on=_parse_date(joined_on, _("入党日期")),
            )
        if audit_entry:
            # Only masked values go in the audit trail: the trail must not become a PII copy.
            audit.record(
                actor,
                "person.create",
                person,
                after={"name": name, "phone": person.phone_masked, "id": person.id_masked,
                       "community": registered_community.code if registered_community else None,
                       "party_status": party_status},
            )
    return person


def person_unmask(*, actor, person: Person, field: str, reason: str = "", channel: str = "web") -> str:
    """Read one personal field in clear. A permission, and always written to the access log."""
    if field not in ("phone", "id_number"):
        raise ValidationFailed("bad_field", _("只能查看手机号或身份证号。"))
    scopes.require(actor, "person.unmask", person)
    PiiAccess.objects.create(user=actor, person=person, field=field, reason=reason[:200], channel=channel)
    return pii.decrypt(person.phone_enc if field == "phone" else person.id_enc)


def organization_create(*, actor, kind: str, name: str, parent: Organization | None = None,
                        place: Place | None = None, credit_code: str = "") -> Organization:
    name = (name or "").strip()
    if kind not in OrgKind.values:
        raise ValidationFailed("bad_kind", _("未知的组织类型：%(kind)s") % {"kind": kind})
    if not name:
        raise ValidationFailed("name_required", _("组织名称不能为空。"))
    if credit_code and not re.match(r"^[0-9A-Z]{18}$", credit_code):
        raise ValidationFailed("bad_credit_code", _("统一社会信用代码应为 18 位数字或大写字母。"))
    # Both ends must be inside the actor's scope: an own place must not smuggle a foreign parent in.
    if place is None and parent is None:
        scopes.require(actor, "grid.import")
    for node in (place, parent):
        if node is not None:
            scopes.require(actor, "registry.edit", node)
    with transaction.atomic():
        if Organization.objects.filter(parent=parent, name=name).exists():
            raise ValidationFailed("duplicate_name", _("同一上级下已有名为「%(name)s」的组织。") % {"name": name})
        org = Organization.objects.create(kind=kind, name=name, parent=parent, place=place, credit_code=credit_code)
        audit.record(actor, "organization.create", org, after={"kind": kind, "name": name,
                                                               "parent": parent.pk if parent else None})
    return org


def membership_join(*, actor, organization: Organization, member: Organization, joined_on, starts_on, ends_on,
                    number: str, duties: list[str] | None = None, commitments: list[str] | None = None,
                    role: str = "member_unit") -> Agreement:
    """A unit joins a joint committee or alliance, backed by a signed agreement."""
    if organization.kind not in (OrgKind.JOINT_COMMITTEE, OrgKind.ALLIANCE, OrgKind.INDUSTRY_COMMITTEE):
        raise ValidationFailed("not_joinable", _("只能加入联合党委、党建联盟或行业党委。"))
    if organization.pk == member.pk:
        raise ValidationFailed("self_member", _("组织不能成为自己的成员单位。"))
    if member.kind not in UNIT_KINDS:
        raise ValidationFailed("not_unit", _("「%(name)s」（%(kind)s）不能作为成员单位加入。") % {
            "name": member.name, "kind": OrgKind(member.kind).label})
    if role not in MembershipRole.values:
        raise ValidationFailed("bad_role", _("未知的成员角色：%(role)s") % {"role": role})
    starts = _parse_date(starts_on, _("协议开始日期"))
    ends = _parse_date(ends_on, _("协议结束日期"))
    joined = _parse_date(joined_on, _("加入日期")) or starts
    if starts is None or ends is None:
        raise ValidationFailed("dates_required", _("协议必须有开始和结束日期。"))
    if ends <= starts:
        raise ValidationFailed("agreement_ends_before_start", _("协议结束日期必须晚于开始日期。"))
    number = (number or "").strip()
    if not number:
        raise ValidationFailed("number_required", _("协议编号不能为空。"))
    if len(number) > 40:
        raise ValidationFailed("bad_number", _("协议编号不超过 40 个字符。"))
    duties = [d.strip() for d in (duties or []) if d and d.strip()]
    commitments = [c.strip() for c in (commitments or []) if c and c.strip()]
    scopes.require(actor, "registry.edit", organization)
    duplicate = ValidationFailed("duplicate_number", _("协议编号 %(n)s 已存在。") % {"n": number})
    with transaction.atomic():
        if Agreement.objects.filter(number=number).exists():
            raise duplicate
        membership, created = Membership.objects.get_or_create(
            organization=organization, member=member, defaults={"joined_on": joined, "role": role}
        )
        if not created and membership.status != MembershipStatus.ACTIVE:
            # A new signed agreement brings a lapsed member back.
            Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.ACTIVE, left_on=None)
        try:
            with transaction.atomic():  # savepoint: a concurrent twin number hits the unique index
                agreement = Agreement.objects.create(membership=membership, number=number, starts_on=starts,
                                                     ends_on=ends, duties=duties, commitments=commitments)
        except IntegrityError:
            raise duplicate from None
        audit.record(actor, "agreement.create", agreement, after={
            "organization": organization.pk, "member": member.pk, "number": number,
            "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "duties": duties or []})
    return agreement


def member_unit_join(*, actor, organization: Organization, unit_name: str, unit_kind: str, credit_code: str = "",
                     number: str, starts_on, ends_on, joined_on=None, duties: list[str] | None = None,
                     commitments: list[str] | None = None, role: str = "member_unit") -> Agreement:
    """A member unit joins with its agreement: the unit is found (credit code, else name) or registered.

    One transaction: if the agreement is refused (dates, duplicate number …) no unit is left behind.
    A new unit sits where the committee it joins sits, so that committee's staff can see it.
    """
    unit_name = (unit_name or "").strip()
    credit_code = (credit_code or "").strip().upper()
    if not unit_name:
        raise ValidationFailed("name_required", _("单位名称不能为空。"))
    if unit_kind not in UNIT_KINDS:
        raise ValidationFailed("bad_unit_kind", _("单位类型不正确，应为：%(kinds)s") % {"kinds": unit_kind_labels()})
    scopes.require(actor, "registry.edit", organization)
    with transaction.atomic():
        unit = None
        if credit_code:
            unit = Organization.objects.filter(credit_code=credit_code).order_by("id").first()
        if unit is None:
            unit = Organization.objects.filter(name=unit_name, parent=None, kind__in=UNIT_KINDS).order_by("id").first()
        if unit is None:
            unit = organization_create(actor=actor, kind=unit_kind, name=unit_name, parent=None,
                                       place=organization.place, credit_code=credit_code)
        return membership_join(actor=actor, organization=organization, member=unit, joined_on=joined_on,
                               starts_on=starts_on, ends_on=ends_on, number=number, duties=duties,
                               commitments=commitments, role=role)


def unit_kind_labels() -> str:
    return "、".join(str(OrgKind(k).label) for k in OrgKind.values if k in UNIT_KINDS)


JOINABLE_KINDS = (OrgKind.JOINT_COMMITTEE, OrgKind.ALLIANCE, OrgKind.INDUSTRY_COMMITTEE)


def organization_by_name(name: str, *, queryset=None, label: str | None = None) -> Organization:
    """Resolve an organisation typed by name (forms, Excel); refuses unknown and ambiguous names."""
    name = (name or "").strip()
    qs = queryset if queryset is not None else Organization.objects.all()
    found = list(qs.filter(name=name).order_by("id")[:2])
    label = label or _("党组织")
    if not found:
        raise ValidationFailed("no_organization", _("%(label)s「%(name)s」不存在，请先在系统中登记。") % {
            "label": label, "name": name})
    if len(found) > 1:
        raise ValidationFailed("ambiguous_organization", _("有多个名为「%(name)s」的%(label)s，请在系统中核对名称。") % {
            "label": label, "name": name})
    return found[0]


def split_items(text) -> list[str]:
    """A duty or commitment list typed as one text: items separated by ；, ; or new lines."""
    if isinstance(text, (list, tuple)):
        return [str(t).strip() for t in text if str(t).strip()]
    return [part.strip() for part in re.split(r"[；;\r\n]+", str(text or "")) if part.strip()]


def agreements_expiring(*, within_days: int, today: dt.date | None = None):
    """Signed agreements ending within N days: the reminders the registry page shows."""
    from django.utils import timezone

    today = today or timezone.localdate()
    return Agreement.objects.filter(status="signed", ends_on__gte=today,
                                    ends_on__lte=today + dt.timedelta(days=within_days))


def post_assign(*, actor, person: Person, title: str, starts_on, ends_on=None, organization=None, place=None,
                grid=None) -> Post:
    """Give a person a post. A single-holder post (书记, 网格长 …) never has two holders at once.

    The check and the insert run under a lock on the scope row (select_for_update on PostgreSQL;
    on SQLite the IMMEDIATE transaction takes the database write lock at BEGIN), so of two
    concurrent assignments the second sees the first's post and gets a 409.
    """
    if title not in PostTitle.values:
        raise ValidationFailed("bad_title", _("未知的职务：%(t)s") % {"t": title})
    if sum(node is not None for node in (organization, place, grid)) > 1:
        raise ValidationFailed("one_scope", _("职务只能有一个范围：组织、地点或网格三选一。"))
    scope_node = grid or place or organization
    if scope_node is None:
        raise ValidationFailed("scope_required", _("职务必须有范围：组织、地点或网格。"))
    starts = _parse_date(starts_on, _("任职开始日期"))
    ends = _parse_date(ends_on, _("任职结束日期"))
    if starts is None:
        raise ValidationFailed("dates_required", _("任职开始日期不能为空。"))
    if ends is not None and ends <= starts:
        raise ValidationFailed("post_ends_before_start", _("任职结束日期必须晚于开始日期。"))
    scopes.require(actor, "registry.edit", scope_node)

    def assign() -> Post:
        if title in SINGLE_HOLDER_TITLES:
            # Lock the scope row so two concurrent assignments cannot both pass the check.
            type(scope_node).objects.select_for_update().filter(pk=scope_node.pk).first()
            overlap = Post.objects.filter(title=title, organization=organization, place=place, grid=grid).filter(
                Q(ends_on__isnull=True) | Q(ends_on__gt=starts)
            )
            if ends is not None:
                overlap = overlap.filter(starts_on__lt=ends)
            holder = overlap.exclude(person=person).select_related("person").first()
            if holder is not None:
                raise Conflict("post_taken", _("「%(scope)s」的%(title)s 在该任期内已由 %(who)s 担任。") % {
                    "scope": str(scope_node), "title": PostTitle(title).label, "who": pii.mask_name(holder.person.name)})
        post = Post.objects.create(person=person, title=title, organization=organization, place=place, grid=grid,
                                   starts_on=starts, ends_on=ends)
        audit.record(actor, "post.assign", post, after={"person": person.pk, "title": title,
                                                        "scope": str(scope_node), "starts_on": starts.isoformat()})
        return post

    return _serialised(assign)


def _serialised(fn):
    """Run `fn` in its own transaction; a writer that waited out the lock gets a 409, not a 500.

    SQLite queues writers with the busy timeout (settings: IMMEDIATE transactions, timeout 20 s);
    PostgreSQL queues them on the row lock. Only when that wait runs out does the database say
    "locked", and then the loser should read a clear message like any other loser of a race.
    """
    try:
        with transaction.atomic():
            return fn()
    except OperationalError as exc:
        if connection.vendor != "sqlite" or "locked" not in str(exc) or connection.in_atomic_block:
            raise
        raise Conflict("busy", _("系统正忙，有人正在修改同一内容，请稍后重试。")) from None
