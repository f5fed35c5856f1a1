"""Writes to organisations, memberships, agreements, people and posts; and the unmasked read."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Max, Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import audit, pii, scopes, unmask
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.models import PiiAccess
from gongzhi.core.search import search_key
from gongzhi.core.transactions import serialised
from gongzhi.places.models import Place, PlaceKind

from .models import (
    SINGLE_HOLDER_TITLES,
    UNIT_KINDS,
    Agreement,
    AgreementStatus,
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


def person_unmask(*, actor, person: Person, field: str, reason: str, channel: str = "web") -> str:
    """Read one personal field in clear: a reason, a permission, a rate limit per user
    (core.unmask, shared with every clear read), and always written to the access log."""
    if field not in ("phone", "id_number"):
        raise ValidationFailed("bad_field", _("只能查看手机号或身份证号。"))
    reason = unmask.clean_reason(reason)
    scopes.require(actor, "person.unmask", person)
    unmask.check_rate(actor)
    PiiAccess.objects.create(user=actor, person=person, field=field, reason=reason, channel=channel)
    return pii.decrypt(person.phone_enc if field == "phone" else person.id_enc)


EXPORT_REASON_MAX = 200


def person_export(*, actor, person: Person, reason: str, channel: str = "web") -> dict:
    """Everything held about one person (PIPL art. 45), in clear, for staff who may unmask them.

    The person file and role assignments come from here; every app above adds the section it holds
    (core.retention.register_export). The read is written to the access log (PiiAccess, field
    "export") with its reason and to the audit trail, in one transaction with nothing else."""
    from django.utils import timezone

    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.core import retention

    scopes.require(actor, "person.unmask", person)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed("reason_required", _("请填写导出原因。"))
    if len(reason) > EXPORT_REASON_MAX:
        raise ValidationFailed("reason_too_long", _("导出原因不能超过 %(n)s 个字。") % {"n": EXPORT_REASON_MAX})
    party = getattr(person, "party", None)
    user = person.user
    data = {
        "generated_at": timezone.now(),
        "person": {
            "id": person.pk, "name": person.name, "gender": person.gender,
            "phone": pii.decrypt(person.phone_enc), "id_number": pii.decrypt(person.id_enc),
            "registered_community": person.registered_community.name if person.registered_community_id else None,
            "created_at": person.created_at,
        },
        "party": ({"home_organization": party.home_organization.name, "status": party.status,
                   "joined_on": party.joined_on} if party else None),
        "posts": [{"title": p.title, "organization": p.organization.name if p.organization_id else None,
                   "place": p.place.name if p.place_id else None, "grid": p.grid.name if p.grid_id else None,
                   "starts_on": p.starts_on, "ends_on": p.ends_on}
                  for p in person.posts.select_related("organization", "place", "grid").order_by("id")],
        "account": ({"username": user.username, "date_joined": user.date_joined, "last_login": user.last_login,
                     "roles": [{"role": r.role, "scope": r.scope_label(), "created_at": r.created_at}
                               for r in RoleAssignment.objects.filter(user=user).select_related("place", "grid", "organization").order_by("id")]}
                    if user is not None else None),
        **retention.export_sections(person),
    }
    with transaction.atomic():
        PiiAccess.objects.create(user=actor, person=person, field="export", reason=reason, channel=channel)
        audit.record(actor, "person.export", person, after={"reason": reason, "channel": channel,
                                                            "sections": sorted(data)})
    return data


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
        _check_single_holder(title=title, organization=organization, place=place, grid=grid, starts=starts,
                             ends=ends, person=person)
        post = Post.objects.create(person=person, title=title, organization=organization, place=place, grid=grid,
                                   starts_on=starts, ends_on=ends)
        audit.record(actor, "post.assign", post, after={"person": person.pk, "title": title,
                                                        "scope": str(scope_node), "starts_on": starts.isoformat()})
        return post

    return _serialised(assign)


def _check_single_holder(*, title, organization, place, grid, starts, ends, person, exclude_pk=None) -> None:
    """A single-holder post (书记, 网格长 …) never has two holders in overlapping terms.

    Locks the scope row first, so two concurrent writers cannot both pass the check.
    """
    if title not in SINGLE_HOLDER_TITLES:
        return
    scope_node = grid or place or organization
    type(scope_node).objects.select_for_update().filter(pk=scope_node.pk).first()
    overlap = Post.objects.filter(title=title, organization=organization, place=place, grid=grid).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=starts)
    )
    if ends is not None:
        overlap = overlap.filter(starts_on__lt=ends)
    if exclude_pk is not None:
        overlap = overlap.exclude(pk=exclude_pk)
    holder = overlap.exclude(person=person).select_related("person").first()
    if holder is not None:
        raise Conflict("post_taken", _("「%(scope)s」的%(title)s 在该任期内已由 %(who)s 担任。") % {
            "scope": str(scope_node), "title": PostTitle(title).label, "who": pii.mask_name(holder.person.name)})


def _serialised(fn):
    return serialised(fn, _("系统正忙，有人正在修改同一内容，请稍后重试。"))

# ---- edits ----
#
# Every edit carries the version the user last saw. Inside one transaction the row is read fresh
# under the write lock (FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction holds the
# database write lock from BEGIN), the version compared, and the write is a compare-and-set
# `UPDATE … WHERE id=… AND version=v`, so a stale edit gets a 409 and changes nothing. Only the
# fields that really change are written and audited; an edit that changes nothing writes nothing.

EDIT = "registry.edit"
STALE_MESSAGE = gettext_lazy("该记录已被他人修改，请刷新后重试。")


class _Keep:
    """The default of every edit argument: leave this field as it is (a PATCH leaves out fields)."""

    def __repr__(self):
        return "KEEP"


KEEP = _Keep()


def _given(value) -> bool:
    return value is not KEEP


def _stale() -> Conflict:
    return Conflict("stale", STALE_MESSAGE)


def _version(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("version_required", _("缺少记录版本号，请刷新页面后重试。")) from None


def _locked(qs, pk, version: int):
    """The row as it is now, locked for this transaction; a stale version is a 409 before anything else."""
    row = qs.select_for_update(of=("self",)).filter(pk=pk).first()
    if row is None:
        raise NotFound("gone", _("记录不存在或已被删除。"))
    if row.version != version:
        raise _stale()
    return row


def _compare_and_set(model, pk, version: int, fields: dict) -> None:
    if "name" in fields and hasattr(model, "search_key"):
        fields = {**fields, "search_key": search_key(fields["name"])}  # the pickers' key follows the name
    if model.objects.filter(pk=pk, version=version).update(version=F("version") + 1, **fields) != 1:
        raise _stale()


def _iso(value):
    return value.isoformat() if value is not None else None


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ValidationFailed("bad_name", _("姓名不能为空，且不超过 50 个字。"))
    return name


def person_update(*, actor, person: Person, version, name=KEEP, gender=KEEP, phone=KEEP, id_number=KEEP,
                  registered_community=KEEP, party_status=KEEP, home_organization=KEEP, joined_on=KEEP) -> Person:
    """Edit a person. Phone and ID are re-encrypted, re-hashed and re-masked; the audit trail sees masks only.

    `phone=""` / `id_number=""` clears the number. `party_status=None` (or "") removes the party
    membership; otherwise the party fields given are merged into the current membership.
    A move to another community needs registry.edit there as well as here.
    """
    version = _version(version)
    # Shape checks first: they need no database and no lock.
    if _given(name):
        name = _clean_name(name)
    if _given(gender) and gender not in ("", "M", "F"):
        raise ValidationFailed("bad_gender", _("性别只能是 男 或 女。"))
    if _given(phone):
        phone = validate_phone(phone) if phone else ""
    if _given(id_number):
        id_number = validate_id_number(id_number) if id_number else ""
    if _given(registered_community):
        if registered_community is None:
            raise ValidationFailed("no_community", _("登记社区不能为空。"))
        if registered_community.kind != PlaceKind.COMMUNITY:
            raise ValidationFailed("no_community", _("登记社区必须是一个社区。"))
    removing_party = _given(party_status) and not party_status
    if _given(party_status) and party_status and party_status not in PartyStatus.values:
        raise ValidationFailed("bad_party_status", _("党员状态只能是 在职、退休 或 流动。"))
    if removing_party and (_given(home_organization) and home_organization is not None):
        raise ValidationFailed("party_status_required", _("填写了组织关系所在党组织，请同时选择党员状态。"))
    if _given(joined_on):
        joined_on = _parse_date(joined_on, _("入党日期"))

    def write() -> Person:
        current = _locked(Person.objects.select_related("registered_community"), person.pk, version)
        scopes.require(actor, EDIT, current)
        party = PartyMembership.objects.select_for_update(of=("self",)).filter(person=current).first()
        before, after, fields = {}, {}, {}

        def change(key, old, new):
            before[key], after[key] = old, new

        if _given(name) and name != current.name:
            change("name", current.name, name)
            fields["name"] = name
        if _given(gender) and gender != current.gender:
            change("gender", current.gender, gender)
            fields["gender"] = gender
        if _given(phone) and pii.lookup_hash(phone) != current.phone_hash:
            change("phone", current.phone_masked, pii.mask_phone(phone))
            fields.update(phone_enc=pii.encrypt(phone), phone_hash=pii.lookup_hash(phone),
                          phone_masked=pii.mask_phone(phone))
        if _given(id_number) and pii.lookup_hash(id_number) != current.id_hash:
            id_hash = pii.lookup_hash(id_number)
            if id_hash and Person.objects.filter(id_hash=id_hash).exclude(pk=current.pk).exists():
                raise _duplicate_id(id_number)
            change("id", current.id_masked, pii.mask_id(id_number))
            fields.update(id_enc=pii.encrypt(id_number), id_hash=id_hash, id_masked=pii.mask_id(id_number))
        if _given(registered_community) and registered_community.pk != current.registered_community_id:
            # Moving a person hands them to another community: both ends must be the actor's.
            scopes.require(actor, EDIT, registered_community)
            old = current.registered_community
            change("community", old.code if old else None, registered_community.code)
            fields.update(registered_community=registered_community, place_path=registered_community.path)

        party_write = None  # None: untouched; "delete"; or the membership's new values
        old_party = {"party_status": party.status if party else None,
                     "home_organization": party.home_organization_id if party else None,
                     "joined_on": _iso(party.joined_on) if party else None}
        if removing_party:
            if party is not None:
                party_write = "delete"
                for key, old in old_party.items():
                    if old is not None:
                        change(key, old, None)
        elif _given(party_status) or _given(home_organization) or _given(joined_on):
            status = party_status if _given(party_status) else (party.status if party else None)
            home = home_organization if _given(home_organization) else (party.home_organization if party else None)
            joined = joined_on if _given(joined_on) else (party.joined_on if party else None)
            if status is None and (home is not None or joined is not None):
                raise ValidationFailed("party_status_required", _("填写了组织关系所在党组织，请同时选择党员状态。"))
            if status is not None and home is None:
                raise ValidationFailed("home_org_required", _("党员必须填写组织关系所在党组织。"))
            if status is not None:  # (all three empty for a non-member: nothing to do)
                new_party = {"party_status": status, "home_organization": home.pk, "joined_on": _iso(joined)}
                for key, new in new_party.items():
                    if new != old_party[key]:
                        change(key, old_party[key], new)
                if new_party != old_party:
                    party_write = {"status": status, "home_organization": home, "joined_on": joined}

        if not after:
            return current
        try:
            with transaction.atomic():  # savepoint: a concurrent twin ID number hits the unique index
                _compare_and_set(Person, current.pk, version, fields)
        except IntegrityError:
            raise _duplicate_id(id_number) from None
        if party_write == "delete":
            party.delete()
        elif party_write is not None:
            PartyMembership.objects.update_or_create(person=current, defaults=party_write)
        # Only masked values go in the audit trail: the trail must not become a PII copy.
        audit.record(actor, "person.update", current, before=before, after=after)
        return Person.objects.select_related("registered_community", "party__home_organization").get(pk=current.pk)

    return _serialised(write)


def _duplicate_id(id_number: str) -> Conflict:
    return Conflict("duplicate_person", _("身份证号 %(masked)s 已登记。") % {"masked": pii.mask_id(id_number)})


def organization_update(*, actor, organization: Organization, version, name=KEEP, kind=KEEP, parent=KEEP,
                        place=KEEP, credit_code=KEEP) -> Organization:
    """Edit an organisation; a move re-roots its whole subtree's paths in one UPDATE.

    The new parent may be neither the organisation itself nor one of its descendants (a cycle
    would cut the subtree off the tree). The actor needs registry.edit on the organisation and on
    the parent and place it moves to.
    """
    version = _version(version)
    if _given(name):
        name = (name or "").strip()
        if not name:
            raise ValidationFailed("name_required", _("组织名称不能为空。"))
        if len(name) > 150:
            raise ValidationFailed("bad_name", _("组织名称不超过 150 个字。"))
    if _given(kind) and kind not in OrgKind.values:
        raise ValidationFailed("bad_kind", _("未知的组织类型：%(kind)s") % {"kind": kind})
    if _given(credit_code):
        credit_code = (credit_code or "").strip().upper()
        if credit_code and not re.match(r"^[0-9A-Z]{18}$", credit_code):
            raise ValidationFailed("bad_credit_code", _("统一社会信用代码应为 18 位数字或大写字母。"))

    def write() -> Organization:
        current = _locked(Organization.objects.select_related("place"), organization.pk, version)
        scopes.require(actor, EDIT, current)
        before, after, fields = {}, {}, {}

        def change(key, old, new):
            before[key], after[key] = old, new

        new_parent = current.parent
        if _given(parent) and (parent.pk if parent else None) != current.parent_id:
            new_parent = Organization.objects.filter(pk=parent.pk).first() if parent is not None else None
            if parent is not None and new_parent is None:
                raise ValidationFailed("no_organization", _("上级组织不存在。"))
            if new_parent is not None and (new_parent.pk == current.pk or new_parent.path.startswith(current.path)):
                raise ValidationFailed("org_cycle", _("不能把「%(name)s」移到它自己或它的下级组织「%(parent)s」之下。") % {
                    "name": current.name, "parent": new_parent.name})
            if new_parent is not None:
                scopes.require(actor, EDIT, new_parent)
            change("parent", current.parent_id, new_parent.pk if new_parent else None)
            fields["parent"] = new_parent
        new_place = current.place
        if _given(place) and (place.pk if place else None) != current.place_id:
            new_place = place
            if place is not None:
                scopes.require(actor, EDIT, place)
            change("place", current.place.code if current.place_id else None, place.code if place else None)
            fields.update(place=place, place_path=place.path if place else "")
        if new_parent is None and new_place is None:
            # A free-floating organisation belongs to no one's scope: only the district level may do that.
            scopes.require(actor, "grid.import")
        new_name = name if _given(name) else current.name
        if new_name != current.name:
            change("name", current.name, new_name)
            fields["name"] = new_name
        if ("name" in fields or "parent" in fields) and Organization.objects.filter(
                parent=new_parent, name=new_name).exclude(pk=current.pk).exists():
            raise ValidationFailed("duplicate_name", _("同一上级下已有名为「%(name)s」的组织。") % {"name": new_name})
        if _given(kind) and kind != current.kind:
            _check_kind_change(current, kind)
            change("kind", current.kind, kind)
            fields["kind"] = kind
        if _given(credit_code) and credit_code != current.credit_code:
            change("credit_code", current.credit_code, credit_code)
            fields["credit_code"] = credit_code
        if not after:
            return current
        old_path = current.path
        new_path = (new_parent.path if new_parent else "/") + f"{current.pk}/"
        if new_path != old_path:
            deepest = Organization.objects.filter(path__startswith=old_path).aggregate(n=Max(Length("path")))["n"]
            if deepest - len(old_path) + len(new_path) > Organization._meta.get_field("path").max_length:
                raise ValidationFailed("tree_too_deep", _("移动后组织层级过深，无法保存。"))
        try:
            with transaction.atomic():  # savepoint: a concurrent twin name hits the unique index
                _compare_and_set(Organization, current.pk, version, fields)
        except IntegrityError:
            raise ValidationFailed("duplicate_name", _("同一上级下已有名为「%(name)s」的组织。") % {
                "name": new_name}) from None
        if new_path != old_path:
            # The organisation and every descendant in one UPDATE: swap the old prefix for the new one.
            Organization.objects.filter(path__startswith=old_path).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=CharField()))
        audit.record(actor, "organization.update", current, before=before, after=after)
        return Organization.objects.select_related("parent", "place").get(pk=current.pk)

    return _serialised(write)


def _check_kind_change(org: Organization, kind: str) -> None:
    """A kind must still fit the memberships the organisation is in or holds."""
    if kind not in JOINABLE_KINDS and Membership.objects.filter(organization=org).exists():
        raise ValidationFailed("kind_has_members", _("「%(name)s」有成员单位，只能是联合党委、党建联盟或行业党委。") % {
            "name": org.name})
    if kind not in UNIT_KINDS and Membership.objects.filter(member=org).exists():
        raise ValidationFailed("kind_is_member", _("「%(name)s」是成员单位，类型应为：%(kinds)s") % {
            "name": org.name, "kinds": unit_kind_labels()})


OPEN_AGREEMENT = (AgreementStatus.SIGNED, AgreementStatus.DRAFT)


def _agreement_locked(agreement: Agreement, version: int, actor) -> Agreement:
    current = _locked(Agreement.objects.select_related("membership__organization", "membership__member"),
                      agreement.pk, version)
    scopes.require(actor, EDIT, current.membership.organization)
    return current


def _closed(agreement: Agreement) -> Conflict:
    return Conflict("agreement_closed", _("协议 %(n)s %(status)s，不能再修改或终止。") % {
        "n": agreement.number, "status": agreement.get_status_display()})


def agreement_update(*, actor, agreement: Agreement, version, starts_on=KEEP, ends_on=KEEP, duties=KEEP,
                     commitments=KEEP) -> Agreement:
    """Edit an open (signed or draft) agreement's term, duty list and resource commitments."""
    version = _version(version)
    if _given(starts_on):
        starts_on = _parse_date(starts_on, _("协议开始日期"))
        if starts_on is None:
            raise ValidationFailed("dates_required", _("协议必须有开始和结束日期。"))
    if _given(ends_on):
        ends_on = _parse_date(ends_on, _("协议结束日期"))
        if ends_on is None:
            raise ValidationFailed("dates_required", _("协议必须有开始和结束日期。"))
    if _given(duties):
        duties = split_items(duties)
    if _given(commitments):
        commitments = split_items(commitments)

    def write() -> Agreement:
        current = _agreement_locked(agreement, version, actor)
        if current.status not in OPEN_AGREEMENT:
            raise _closed(current)
        starts = starts_on if _given(starts_on) else current.starts_on
        ends = ends_on if _given(ends_on) else current.ends_on
        if ends <= starts:
            raise ValidationFailed("agreement_ends_before_start", _("协议结束日期必须晚于开始日期。"))
        before, after, fields = {}, {}, {}
        for key, new, old in (("starts_on", starts, current.starts_on), ("ends_on", ends, current.ends_on)):
            if new != old:
                before[key], after[key], fields[key] = old.isoformat(), new.isoformat(), new
        for key, new in (("duties", duties), ("commitments", commitments)):
            if _given(new) and new != getattr(current, key):
                before[key], after[key], fields[key] = getattr(current, key), new, new
        if not after:
            return current
        _compare_and_set(Agreement, current.pk, version, fields)
        audit.record(actor, "agreement.update", current, before=before, after=after)
        return Agreement.objects.select_related("membership__organization", "membership__member").get(pk=current.pk)

    return _serialised(write)


def agreement_terminate(*, actor, agreement: Agreement, version, reason: str, today: dt.date | None = None) -> Agreement:
    """End an agreement early. With no other signed agreement left, the unit leaves the committee."""
    from django.utils import timezone

    version = _version(version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason_required", _("请填写终止协议的原因。"))
    if len(reason) > 200:
        raise ValidationFailed("bad_reason", _("终止原因不超过 200 个字。"))
    today = today or timezone.localdate()

    def write() -> Agreement:
        current = _agreement_locked(agreement, version, actor)
        if current.status not in OPEN_AGREEMENT:
            raise _closed(current)
        _compare_and_set(Agreement, current.pk, version, {"status": AgreementStatus.TERMINATED})
        before, after = {"status": current.status}, {"status": AgreementStatus.TERMINATED.value, "reason": reason}
        membership = current.membership
        others = Agreement.objects.filter(membership=membership, status=AgreementStatus.SIGNED).exclude(pk=current.pk)
        if membership.status != MembershipStatus.ENDED and not others.exists():
            Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.ENDED, left_on=today)
            before["membership_status"], after["membership_status"] = membership.status, MembershipStatus.ENDED.value
        audit.record(actor, "agreement.terminate", current, before=before, after=after)
        return Agreement.objects.select_related("membership__organization", "membership__member").get(pk=current.pk)

    return _serialised(write)


RENEWABLE = (AgreementStatus.SIGNED, AgreementStatus.EXPIRED)


def agreement_renew(*, actor, agreement: Agreement, version, number: str, ends_on, duties=KEEP,
                    commitments=KEEP) -> Agreement:
    """Sign the next agreement: a new number, its term starting the day after the old one ends.

    Duties and commitments carry over unless given. A lapsed membership becomes active again.
    """
    version = _version(version)
    number = (number or "").strip()
    if not number:
        raise ValidationFailed("number_required", _("协议编号不能为空。"))
    if len(number) > 40:
        raise ValidationFailed("bad_number", _("协议编号不超过 40 个字符。"))
    ends = _parse_date(ends_on, _("协议结束日期"))
    if ends is None:
        raise ValidationFailed("dates_required", _("续签协议必须有结束日期。"))
    duplicate = ValidationFailed("duplicate_number", _("协议编号 %(n)s 已存在。") % {"n": number})

    def write() -> Agreement:
        current = _agreement_locked(agreement, version, actor)
        if current.status not in RENEWABLE:
            raise Conflict("agreement_not_renewable", _("协议 %(n)s %(status)s，不能续签。") % {
                "n": current.number, "status": current.get_status_display()})
        starts = current.ends_on + dt.timedelta(days=1)
        if ends <= starts:
            raise ValidationFailed("agreement_ends_before_start", _("续签协议的结束日期必须晚于开始日期 %(d)s。") % {
                "d": starts.isoformat()})
        later = (Agreement.objects.filter(membership=current.membership, starts_on__gt=current.starts_on)
                 .exclude(status=AgreementStatus.TERMINATED).order_by("starts_on").first())
        if later is not None:
            raise Conflict("already_renewed", _("协议 %(n)s 已续签为 %(new)s。") % {"n": current.number, "new": later.number})
        if Agreement.objects.filter(number=number).exists():
            raise duplicate
        # The old agreement's version moves on too: of two concurrent renewals, one wins.
        _compare_and_set(Agreement, current.pk, version, {})
        new_duties = duties if _given(duties) else current.duties
        new_commitments = commitments if _given(commitments) else current.commitments
        try:
            with transaction.atomic():  # savepoint: a concurrent twin number hits the unique index
                renewed = Agreement.objects.create(
                    membership=current.membership, number=number, starts_on=starts, ends_on=ends,
                    duties=split_items(new_duties), commitments=split_items(new_commitments))
        except IntegrityError:
            raise duplicate from None
        membership = current.membership
        if membership.status != MembershipStatus.ACTIVE:
            Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.ACTIVE, left_on=None)
        audit.record(actor, "agreement.renew", renewed, after={
            "renews": current.number, "number": number, "starts_on": starts.isoformat(), "ends_on": ends.isoformat(),
            "duties": renewed.duties, "commitments": renewed.commitments})
        return Agreement.objects.select_related("membership__organization", "membership__member").get(pk=renewed.pk)

    return _serialised(write)


def agreements_expire(*, actor, today: dt.date | None = None, dry_run: bool = False) -> dict:
    """Mark signed agreements whose term has ended as expired: idempotent, one audit entry per run.

    Returns {"expired": n, "numbers": [...], "still_signed": m}. A second run finds nothing to do
    and writes nothing. Only agreements of committees in the actor's registry.edit scope are touched.
    """
    from django.utils import timezone

    scopes.require(actor, EDIT)
    today = today or timezone.localdate()
    in_scope = Agreement.objects.filter(
        membership__organization__in=scopes.restrict(Organization.objects.all(), actor, EDIT))

    def write() -> dict:
        due = in_scope.filter(status=AgreementStatus.SIGNED, ends_on__lt=today)
        rows = list(due.select_for_update().order_by("ends_on", "id").values_list("pk", "number"))
        if rows and not dry_run:
            Agreement.objects.filter(pk__in=[pk for pk, _n in rows], status=AgreementStatus.SIGNED).update(
                status=AgreementStatus.EXPIRED, version=F("version") + 1)
            audit.record(actor, "agreement.expire", object_type="org.agreement", object_id="",
                         before={"status": AgreementStatus.SIGNED.value},
                         after={"status": AgreementStatus.EXPIRED.value, "as_of": today.isoformat(),
                                "count": len(rows), "ids": [pk for pk, _n in rows]})
        still = in_scope.filter(status=AgreementStatus.SIGNED).count() - (len(rows) if dry_run else 0)
        return {"expired": len(rows), "numbers": [n for _pk, n in rows], "still_signed": still}

    return _serialised(write)


def _post_locked(post: Post, version: int, actor) -> Post:
    current = _locked(Post.objects.select_related("person", "organization", "place", "grid"), post.pk, version)
    scopes.require(actor, EDIT, current)
    return current


def post_update(*, actor, post: Post, version, starts_on=KEEP, ends_on=KEEP) -> Post:
    """Change a post's term; a single-holder post still never overlaps another holder's term."""
    version = _version(version)
    if _given(starts_on):
        starts_on = _parse_date(starts_on, _("任职开始日期"))
        if starts_on is None:
            raise ValidationFailed("dates_required", _("任职开始日期不能为空。"))
    if _given(ends_on):
        ends_on = _parse_date(ends_on, _("任职结束日期"))

    def write() -> Post:
        current = _post_locked(post, version, actor)
        starts = starts_on if _given(starts_on) else current.starts_on
        ends = ends_on if _given(ends_on) else current.ends_on
        if ends is not None and ends <= starts:
            raise ValidationFailed("post_ends_before_start", _("任职结束日期必须晚于开始日期。"))
        before, after, fields = {}, {}, {}
        for key, new, old in (("starts_on", starts, current.starts_on), ("ends_on", ends, current.ends_on)):
            if new != old:
                before[key], after[key], fields[key] = _iso(old), _iso(new), new
        if not after:
            return current
        _check_single_holder(title=current.title, organization=current.organization, place=current.place,
                             grid=current.grid, starts=starts, ends=ends, person=current.person,
                             exclude_pk=current.pk)
        _compare_and_set(Post, current.pk, version, fields)
        audit.record(actor, "post.update", current, before=before, after=after)
        return Post.objects.select_related("person", "organization", "place", "grid").get(pk=current.pk)

    return _serialised(write)


def post_end(*, actor, post: Post, version, ends_on=None, today: dt.date | None = None) -> Post:
    """A holder leaves a post (卸任): the term ends on `ends_on` (default today). Ending only shortens a term."""
    from django.utils import timezone

    version = _version(version)
    today = today or timezone.localdate()
    ends = _parse_date(ends_on, _("卸任日期")) or today

    def write() -> Post:
        current = _post_locked(post, version, actor)
        if current.ends_on is not None and current.ends_on <= today:
            raise Conflict("post_already_ended", _("该职务已于 %(d)s 结束。") % {"d": current.ends_on.isoformat()})
        if ends <= current.starts_on:
            raise ValidationFailed("post_ends_before_start", _("卸任日期必须晚于任职开始日期 %(d)s。") % {
                "d": current.starts_on.isoformat()})
        if current.ends_on is not None and ends > current.ends_on:
            raise ValidationFailed("post_end_after_term", _("卸任日期不能晚于原定任期结束日期 %(d)s；调整任期请使用「编辑」。") % {
                "d": current.ends_on.isoformat()})
        if ends == current.ends_on:
            return current
        _compare_and_set(Post, current.pk, version, {"ends_on": ends})
        audit.record(actor, "post.end", current, before={"ends_on": _iso(current.ends_on)},
                     after={"ends_on": ends.isoformat()})
        return Post.objects.select_related("person", "organization", "place", "grid").get(pk=current.pk)

    return _serialised(write)
