"""Every write to the three lists: one function per use case, each the only door to its change.

A transition runs in one transaction: look the (state, action) up in workflow (409 naming what is
allowed if absent), check the actor's relation (403), validate the input (400), then compare-and-set
`UPDATE … WHERE id=… AND state=… [AND version=…]`: zero rows means someone else won (409). Taking a
need is that compare-and-set on the need plus a link row that the database allows only once per
need (`need_one_live_project`), so fifty concurrent claims leave exactly one project.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, scopes
from gongzhi.core.duties import refuse_self
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import checked_text
from gongzhi.core.transactions import serialised
from gongzhi.org.models import Organization
from gongzhi.places.models import Grid, Place, PlaceKind

from . import permissions, workflow
from .models import (
    BENEFICIARY_MAX,
    RATING_MAX,
    RATING_MIN,
    TAKEN_STATES,
    TEXT_MAX,
    TITLE_MAX,
    ListCounter,
    Need,
    NeedCategory,
    NeedKind,
    NeedSource,
    NeedState,
    Project,
    ProjectNeed,
    ProjectPhoto,
    ProjectState,
    ProjectVia,
    Resource,
    ResourceKind,
    Skill,
    TakerKind,
    Urgency,
)
from .models import _owner_paths as owner_paths
from .workflow import NEED_ACTION_LABELS, PROJECT_ACTION_LABELS, NeedAction, ProjectAction

PHOTO_MAX_COUNT = 9
HOURS_MAX = Decimal("10000")
BUDGET_MAX = Decimal("100000000")
DUE_MAX_DAYS = 366
# A beneficiary alias is shown publicly: refuse anything that looks like a phone or ID number.
_DIGITS = re.compile(r"\d{5,}")


def taken_message():
    return _("该需求已被认领")


def stale_message():
    return _("内容已被他人修改，请刷新后重试。")


# ---- helpers ----

def _serialised(fn):
    return serialised(fn, _("系统正忙，有人正在处理同一事项，请稍后重试。"))

def _signed_in(actor):
    if not permissions.signed_in(actor):
        raise PermissionDenied("login_required", _("请先登录。"))


_text = checked_text

def _choice(value, choices, *, field_label, default=None) -> str:
    if value in (None, "") and default is not None:
        return default
    if value not in choices.values:
        raise ValidationFailed("bad_choice", _("%(field)s「%(value)s」无效，请从列表中选择。") % {
            "field": field_label, "value": value})
    return value


def _int(value, *, field_label, minimum=0, maximum=100000, default=None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("bad_number", _("%(field)s必须是整数。") % {"field": field_label}) from None
    if n < minimum or n > maximum:
        raise ValidationFailed("out_of_range", _("%(field)s必须在 %(min)d 到 %(max)d 之间。") % {
            "field": field_label, "min": minimum, "max": maximum})
    return n


def _decimal(value, *, field_label, maximum, places=2, default=None) -> Decimal:
    if value in (None, "") and default is not None:
        return default
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed("bad_number", _("%(field)s必须是数字。") % {"field": field_label}) from None
    if not d.is_finite():
        raise ValidationFailed("bad_number", _("%(field)s必须是数字。") % {"field": field_label})
    if d < 0:
        raise ValidationFailed("negative", _("%(field)s不能为负数。") % {"field": field_label})
    if d > maximum:
        raise ValidationFailed("too_large", _("%(field)s不能超过 %(max)s。") % {"field": field_label, "max": maximum})
    return d.quantize(Decimal(1).scaleb(-places))


def _date(value, *, field_label, required=True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed("required", _("请填写%(field)s。") % {"field": field_label})
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("bad_date", _("%(field)s「%(value)s」不是有效日期（格式 2026-12-31）。") % {
            "field": field_label, "value": value}) from None


def _point(lon, lat):
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationFailed("bad_point", _("经纬度必须是数字。")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed("bad_point", _("经纬度超出范围。"))
    return lon, lat


def _next_number(prefix: str, now) -> str:
    """XQ20261126-0001: prefix + day (Asia/Shanghai) + the day's sequence, from a counter row."""
    day = timezone.localdate(now)
    if not ListCounter.objects.filter(prefix=prefix, day=day).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                ListCounter.objects.create(prefix=prefix, day=day, last=1)
        except IntegrityError:
            ListCounter.objects.filter(prefix=prefix, day=day).update(last=F("last") + 1)
    last = ListCounter.objects.values_list("last", flat=True).get(prefix=prefix, day=day)
    return f"{prefix}{day:%Y%m%d}-{last:04d}"


def _version(value) -> int:
    """A version number as sent by a page or a client; anything else is a 400, never a 500."""
    try:
        v = int(str(value).strip())
    except (TypeError, ValueError):
        v = -1
    if not 0 < v < 2**31:
        raise ValidationFailed("bad_version", _("版本号无效，请刷新页面后重试。"))
    return v


def _labels(actions, labels) -> str:
    return "、".join(str(labels.get(a, a)) for a in actions)


def _pick(rows_for, table_actions, labels, obj, action, rel, data, what):
    """The workflow row for this actor, or the error that explains why there is none.

    The object's state is read afresh: a page may be stale, the compare-and-set still decides."""
    if obj.pk is not None:
        obj.refresh_from_db()
    if action in (NeedAction.CLAIM, NeedAction.DISPATCH) and obj.state in TAKEN_STATES:
        raise Conflict("already_taken", taken_message(), {"state": obj.state})
    rows = rows_for(obj.state, action)
    if not rows:
        allowed = [a for a in table_actions if rows_for(obj.state, a)]
        raise Conflict("not_allowed_in_state", _("%(what)s当前状态为「%(state)s」，不能%(action)s；可以进行：%(allowed)s。") % {
            "what": what, "state": obj.get_state_display(), "action": labels.get(action, action),
            "allowed": _labels(allowed, labels) or _("无")}, {"state": obj.state})
    refusal = None
    for row in rows:
        if row.roles & rel:
            if row.allows(obj, data):
                return row
            refusal = refusal or row.refusal
    raise PermissionDenied("forbidden", refusal or _("您没有权限执行此操作。"), {"action": action})


def _cas(model, obj, *, state, version, **changes) -> None:
    """Compare-and-set on state (and version when the caller sent one); someone else won → 409."""
    qs = model.objects.filter(pk=obj.pk, state=state)
    if version not in (None, ""):
        qs = qs.filter(version=_version(version))
    if not qs.update(version=F("version") + 1, updated_at=timezone.now(), **changes):
        raise Conflict("stale", stale_message(), {"state": model.objects.values_list("state", flat=True).get(
            pk=obj.pk)})
    obj.refresh_from_db()


def _need_snapshot(n: Need) -> dict:
    return {"number": n.number, "kind": n.kind, "state": n.state, "title": n.title, "due_on": n.due_on,
            "urgency": n.urgency, "skill": n.skill, "category": n.category, "beneficiary": n.beneficiary,
            "beneficiaries_count": n.beneficiaries_count, "place": n.place_id, "grid": n.grid_id}


# ---- needs ----

def _community(place=None, grid=None, actor=None) -> tuple[Place, Grid | None]:
    place = None if isinstance(place, str) and not place.strip() else place  # "" or "\t": none chosen
    grid = None if isinstance(grid, str) and not grid.strip() else grid
    if isinstance(place, (int, str)) and str(place).strip():
        code = str(place).strip()
        place = Place.objects.filter(code=code).first() or (
            Place.objects.filter(pk=code).first() if code.isdigit() and len(code) < 12 else None)
        if place is None:
            raise ValidationFailed("bad_place", _("找不到所选社区。"))
    if isinstance(grid, (int, str)) and str(grid).strip():
        code = str(grid).strip()
        grid = Grid.objects.filter(code=code).first() or (
            Grid.objects.filter(pk=code).first() if code.isdigit() and len(code) < 12 else None)
        if grid is None:
            raise ValidationFailed("bad_grid", _("找不到所选网格。"))
    place = place or None
    grid = grid or None
    if grid is not None:
        if place is not None and grid.community_id != place.pk:
            raise ValidationFailed("grid_outside_place", _("网格「%(grid)s」不在社区「%(place)s」内。") % {
                "grid": grid.name, "place": place.name})
        place = grid.community
    if place is None:
        person = permissions.person_of(actor)
        place = person.registered_community if person is not None else None
    if place is None:
        raise ValidationFailed("place_required", _("请选择需求所在的社区。"))
    if place.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed("not_a_community", _("「%(place)s」不是社区，请选择社区。") % {"place": place.name})
    return place, grid


def _check_due(due_on) -> dt.date:
    due = _date(due_on, field_label=_("期望完成日期"))
    today = timezone.localdate()
    if due < today:
        raise ValidationFailed("due_in_past", _("期望完成日期 %(due)s 已经过去，请选择今天或以后的日期。") % {
            "due": due.isoformat()})
    if (due - today).days > DUE_MAX_DAYS:
        raise ValidationFailed("due_too_far", _("期望完成日期不能晚于一年以后。"))
    return due


def _check_beneficiary(value, *, kind) -> str:
    alias = _text(value, field_label=_("受益对象"), max_len=BENEFICIARY_MAX, required=kind == NeedKind.MICRO_WISH)
    if _DIGITS.search(alias):
        raise ValidationFailed("beneficiary_private", _("受益对象只填称呼（如“王奶奶”），不要填写电话或证件号码。"))
    return alias


def need_create(*, actor, title, due_on, kind=NeedKind.SERVICE, description="", category=NeedCategory.OTHER,
                skill=Skill.OTHER, beneficiary="", beneficiaries_count=1, place=None, grid=None, lon=None,
                lat=None, urgency=Urgency.NORMAL, source=NeedSource.RESIDENT, source_ref="",
                requester=None) -> Need:
    """A resident orders (点单) a service or a micro-wish; staff record needs from surveys, appeals,
    deliberations and visits (then `requester` is the resident's account, if they have one)."""
    _signed_in(actor)
    kind = _choice(kind, NeedKind, field_label=_("类型"), default=NeedKind.SERVICE)
    source = _choice(source, NeedSource, field_label=_("来源"), default=NeedSource.RESIDENT)
    if source == NeedSource.APPEAL:
        # A need turned from an appeal (诉求转化) names a real appeal the actor may read; it takes the
        # appeal's place and grid unless given, and its reporter (if they have an account) as the
        # requester, who can then follow and rate the service.
        appeal = _appeal_of(actor, source_ref)
        source_ref = appeal.number
        same_place = place in (None, "") or str(getattr(place, "pk", place)) in (
            str(appeal.community_id), appeal.community.code)
        if grid in (None, "") and same_place:
            place, grid = appeal.community, appeal.grid
        if not getattr(requester, "pk", None) and appeal.reporter_id:
            requester = appeal.reporter
    place, grid = _community(place, grid, actor)
    need = Need(
        kind=kind, source=source, place=place, grid=grid, place_path=place.path,
        grid_path=grid.path if grid else "",
        title=_text(title, field_label=_("标题"), max_len=TITLE_MAX),
        description=_text(description, field_label=_("说明"), max_len=TEXT_MAX, required=False),
        category=_choice(category, NeedCategory, field_label=_("类别"), default=NeedCategory.OTHER),
        skill=_choice(skill, Skill, field_label=_("所需服务"), default=Skill.OTHER),
        beneficiary=_check_beneficiary(beneficiary, kind=kind),
        beneficiaries_count=_int(beneficiaries_count, field_label=_("受益人数"), minimum=1, maximum=100000,
                                 default=1),
        urgency=_choice(urgency, Urgency, field_label=_("紧急程度"), default=Urgency.NORMAL),
        due_on=_check_due(due_on),
        source_ref=_text(source_ref, field_label=_("来源编号"), max_len=40, required=False),
    )
    need.lon, need.lat = _point(lon, lat)
    if source == NeedSource.RESIDENT:
        need.requester = actor
    else:
        # Staff record on behalf of residents: only where they hold lists.record.
        if not scopes.can(actor, "lists.record", need):
            raise PermissionDenied("forbidden", _("只有本社区的网格员、社区工作者可以代录需求。"))
        need.requester = requester if getattr(requester, "pk", None) else None
    need.recorded_by = actor

    def write():
        now = timezone.now()
        need.number = _next_number("XQ", now)
        need.save()
        audit.record(actor, "need.create", need, after=_need_snapshot(need))
        return need

    return _serialised(write)


def _appeal_of(actor, number):
    """The appeal a need is turned from: it must exist and be readable by the actor."""
    from gongzhi.appeals.selectors import appeal_get_for

    number = str(number or "").strip()
    if not number:
        raise ValidationFailed("appeal_required", _("来源为“诉求转化”时，请填写诉求编号。"))
    try:
        return appeal_get_for(actor, number)
    except NotFound:
        raise ValidationFailed("bad_appeal", _("找不到诉求 %(number)s，或您无权查看。") % {"number": number}) from None


def need_get_for(*, actor, number, action: str | None = None) -> Need:
    """The need if it is in the actor's list: one scope rule (selectors.needs_visible_to) for the list
    and the detail, and the same 404 for missing and not yours.

    One exception, for claims only: a taker whose need was taken by someone else meanwhile (so it left
    their list) hears "already taken" (409), as the loser of the race does, and sees nothing of it."""
    from . import selectors

    number = str(number)
    need = selectors.needs_visible_to(actor).select_related("requester").filter(number=number).first()
    if need is None:
        if action == "claim" and permissions.is_taker(actor) and Need.objects.filter(number=number).exclude(
                state__in=(NeedState.OPEN, NeedState.WITHDRAWN)).exists():
            raise Conflict("already_taken", taken_message())
        raise NotFound("not_found", _("找不到该需求。"))
    return need


_NEED_EDITABLE = ("title", "description", "category", "skill", "beneficiary", "beneficiaries_count", "urgency",
                  "due_on")


def need_update(*, actor, need: Need, version=None, **fields) -> Need:
    """Change an open need (its requester, or list staff in scope)."""
    _signed_in(actor)
    unknown = set(fields) - set(_NEED_EDITABLE)
    if unknown:
        raise ValidationFailed("unknown_field", _("不能修改这些字段：%(f)s。") % {"f": "、".join(sorted(unknown))})
    _pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, need, NeedAction.EDIT,
          permissions.need_relations(actor, need), fields, _("该需求"))
    changes = {}
    if "title" in fields:
        changes["title"] = _text(fields["title"], field_label=_("标题"), max_len=TITLE_MAX)
    if "description" in fields:
        changes["description"] = _text(fields["description"], field_label=_("说明"), max_len=TEXT_MAX,
                                       required=False)
    if "category" in fields:
        changes["category"] = _choice(fields["category"], NeedCategory, field_label=_("类别"))
    if "skill" in fields:
        changes["skill"] = _choice(fields["skill"], Skill, field_label=_("所需服务"))
    if "beneficiary" in fields:
        changes["beneficiary"] = _check_beneficiary(fields["beneficiary"], kind=need.kind)
    if "beneficiaries_count" in fields:
        changes["beneficiaries_count"] = _int(fields["beneficiaries_count"], field_label=_("受益人数"), minimum=1)
    if "urgency" in fields:
        changes["urgency"] = _choice(fields["urgency"], Urgency, field_label=_("紧急程度"))
    if "due_on" in fields:
        changes["due_on"] = _check_due(fields["due_on"])

    def write():
        before = _need_snapshot(need)
        _cas(Need, need, state=NeedState.OPEN, version=version, **changes)
        audit.record(actor, "need.update", need, before=before, after=_need_snapshot(need))
        return need

    return _serialised(write)


def need_withdraw(*, actor, need: Need, reason="", version=None) -> Need:
    _signed_in(actor)
    row = _pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, need, NeedAction.WITHDRAW,
                permissions.need_relations(actor, need), None, _("该需求"))
    reason = _text(reason, field_label=_("撤回原因"), max_len=500, required=False)

    def write():
        qs = Need.objects.filter(pk=need.pk, state=row.source)
        if version not in (None, ""):
            qs = qs.filter(version=_version(version))
        if not qs.update(state=row.target, version=F("version") + 1, updated_at=timezone.now()):
            raise Conflict("stale", stale_message())
        need.refresh_from_db()
        audit.record(actor, "need.withdraw", need, before={"state": row.source},
                     after={"state": row.target, "reason": reason})
        return need

    return _serialised(write)


def _taker_fields(*, organization=None, team=None, person=None) -> dict:
    given = [x for x in (organization, team, person) if x is not None]
    if len(given) != 1:
        raise ValidationFailed("one_taker", _("请选择且只选择一个承接方（成员单位、志愿服务队或党员）。"))
    if organization is not None:
        return {"taker_kind": TakerKind.ORGANIZATION, "taker_organization": organization}
    if team is not None:
        if not team.active:
            raise ValidationFailed("team_inactive", _("志愿服务队「%(t)s」已停用。") % {"t": team.name})
        return {"taker_kind": TakerKind.TEAM, "taker_team": team}
    return {"taker_kind": TakerKind.PERSON, "taker_person": person}


def _take(*, actor, needs: list[Need], row, via, version, taker: dict, resource=None, title=None) -> Project:
    """Move each need from open to the row's target and give them their one project, in the caller's
    transaction. The compare-and-set on each need decides who wins; the link row's conditional unique
    constraint is the database's own guarantee of one live project per need."""
    for need in needs:
        qs = Need.objects.filter(pk=need.pk, state=NeedState.OPEN)
        if version not in (None, "") and len(needs) == 1:
            qs = qs.filter(version=_version(version))
        if not qs.update(state=row.target, version=F("version") + 1, updated_at=timezone.now()):
            current = Need.objects.values_list("state", flat=True).get(pk=need.pk)
            if current == NeedState.OPEN:
                raise Conflict("stale", stale_message(), {"state": current})
            raise Conflict("already_taken", taken_message(), {"state": current, "need": need.number})
        need.refresh_from_db()
    first = needs[0]
    now = timezone.now()
    project = Project(
        number=_next_number("XM", now), title=title or first.title, via=via, place=first.place, resource=resource,
        state=ProjectState.DISPATCHED if via == ProjectVia.DISPATCH else ProjectState.CLAIMED,
        dispatched_by=actor if via == ProjectVia.DISPATCH else None,
        claimed_by=actor if via == ProjectVia.CLAIM else None, **taker)
    project.save()
    try:
        with transaction.atomic():
            ProjectNeed.objects.bulk_create([ProjectNeed(project=project, need=n) for n in needs])
    except IntegrityError:
        raise Conflict("already_taken", taken_message()) from None
    return project


def _check_dispatch_taker(need: Need, taker_obj, resource) -> None:
    """A dispatch goes to a taker the community may choose (selectors.dispatch_takers: the rule the
    page's picker offers), whichever door it comes through. A dispatch with a resource goes to the
    resource's owner, which _check_resource verifies: the matching board pairs a need with resources
    that serve its community, wherever their owner sits."""
    if resource is not None or taker_obj is None:
        return
    from .selectors import dispatch_takers

    group = {"Organization": "units", "Person": "members", "Team": "teams"}[type(taker_obj).__name__]
    if not dispatch_takers(need)[group].filter(pk=taker_obj.pk).exists():
        # No name in the message: the id may be anyone's, and the actor may not know who it is.
        raise ValidationFailed("taker_out_of_scope", _("所选承接方不在该需求所在社区的可派单范围内。"))


def _check_resource(resource, taker_obj, adding: int = 1) -> None:
    """In the caller's transaction: the resource is the taker's, active, in date and has room."""
    if resource is None:
        return
    if not resource.active:
        raise ValidationFailed("resource_inactive", _("资源「%(r)s」已停用。") % {"r": resource.title})
    if resource.owner != taker_obj:
        raise ValidationFailed("resource_not_takers", _("资源「%(r)s」不属于所选承接方。") % {"r": resource.title})
    if resource.available_until and resource.available_until < timezone.localdate():
        raise ValidationFailed("resource_expired", _("资源「%(r)s」的提供期限已过。") % {"r": resource.title})
    # Lock the resource so two dispatches cannot both take its last place.
    Resource.objects.select_for_update().filter(pk=resource.pk).first()
    busy = Project.objects.filter(resource=resource, state__in=(
        ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED)).count()
    if busy + adding > resource.capacity:
        raise Conflict("resource_full", _("资源「%(r)s」已满（可同时承接 %(c)d 个，正在承接 %(b)d 个）。") % {
            "r": resource.title, "c": resource.capacity, "b": busy})


def _project_snapshot(p: Project) -> dict:
    return {"number": p.number, "state": p.state, "via": p.via, "taker_kind": p.taker_kind,
            "taker": getattr(p.taker, "pk", None), "resource": p.resource_id,
            "needs": [n.number for n in p.needs.all()] if p.pk else []}


def need_claim(*, actor, need: Need, organization=None, version=None) -> Project:
    """A party member claims for themself, a unit liaison for its unit: never two takers for one need."""
    _signed_in(actor)
    row = _pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, need, NeedAction.CLAIM,
                permissions.need_relations(actor, need), None, _("该需求"))
    if isinstance(organization, (int, str)) and str(organization).strip():
        ok = str(organization).isdigit() and len(str(organization)) < 15
        organization = Organization.objects.filter(pk=organization).first() if ok else None
        if organization is None:
            raise ValidationFailed("bad_org", _("找不到所选单位。"))
    organization = organization or None
    if organization is not None:
        if not permissions.speaks_for_org(actor, organization):
            raise PermissionDenied("forbidden", _("您不是「%(org)s」的联络员，不能代表该单位认领。") % {
                "org": organization.name})
        taker = _taker_fields(organization=organization)
    elif permissions.can_take_for_person(actor):
        # Taking one's own need would let a member report hours for it and credit them to themself.
        refuse_self(actor, need.requester_id, message=_("不能认领自己提出的需求。"))
        taker = _taker_fields(person=permissions.person_of(actor))
    else:
        units = permissions.taker_units(actor)
        if len(units) != 1:
            raise ValidationFailed("choose_unit", _("请选择以哪个单位认领。"))
        taker = _taker_fields(organization=units[0])

    def write():
        project = _take(actor=actor, needs=[need], row=row, via=ProjectVia.CLAIM, version=version, taker=taker)
        audit.record(actor, "need.claim", need, before={"state": row.source},
                     after={"state": row.target, "project": project.number})
        audit.record(actor, "project.create", project, after=_project_snapshot(project))
        _notify_requesters(project, actor, "taken")
        return project

    return _serialised(write)


def need_dispatch(*, actor, need: Need, taker_organization=None, taker_person=None, taker_team=None,
                  resource=None, version=None) -> Project:
    """The community assigns a need to a taker (派单). The matching board calls this for each pair it
    confirms; a need that is no longer open raises a 409 Conflict."""
    _signed_in(actor)
    row = _pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, need, NeedAction.DISPATCH,
                permissions.need_relations(actor, need), {"taker": True}, _("该需求"))
    refuse_self(actor, taker_person, message=_("不能把需求派给自己，请由其他工作人员派单。"))
    taker = _taker_fields(organization=taker_organization, team=taker_team, person=taker_person)
    taker_obj = taker_organization or taker_team or taker_person
    _check_dispatch_taker(need, taker_obj, resource)

    def write():
        _check_resource(resource, taker_obj)
        project = _take(actor=actor, needs=[need], row=row, via=ProjectVia.DISPATCH, version=version, taker=taker,
                        resource=resource)
        audit.record(actor, "need.dispatch", need, before={"state": row.source},
                     after={"state": row.target, "project": project.number})
        audit.record(actor, "project.create", project, after=_project_snapshot(project))
        _notify_taker(project, actor)
        return project

    return _serialised(write)


def needs_dispatch_bundle(*, actor, needs, title, taker_organization=None, taker_person=None, taker_team=None,
                          resource=None) -> Project:
    """The community bundles several open needs of one community into one project for one taker.
    All or nothing: if any need is no longer open, nothing is dispatched (409)."""
    _signed_in(actor)
    needs = list({n.pk: n for n in needs}.values())
    if len(needs) < 2:
        raise ValidationFailed("bundle_too_small", _("打包派单至少需要两个需求。"))
    if len({n.place_id for n in needs}) > 1:
        raise ValidationFailed("bundle_places", _("打包的需求必须属于同一个社区。"))
    rows = [_pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, n, NeedAction.DISPATCH,
                  permissions.need_relations(actor, n), {"taker": True}, _("该需求")) for n in needs]
    title = _text(title, field_label=_("项目名称"), max_len=TITLE_MAX)
    refuse_self(actor, taker_person, message=_("不能把需求派给自己，请由其他工作人员派单。"))
    taker = _taker_fields(organization=taker_organization, team=taker_team, person=taker_person)
    taker_obj = taker_organization or taker_team or taker_person
    _check_dispatch_taker(needs[0], taker_obj, resource)

    def write():
        _check_resource(resource, taker_obj)
        project = _take(actor=actor, needs=needs, row=rows[0], via=ProjectVia.DISPATCH, version=None, taker=taker,
                        resource=resource, title=title)
        for n in needs:
            audit.record(actor, "need.dispatch", n, before={"state": NeedState.OPEN},
                         after={"state": n.state, "project": project.number})
        audit.record(actor, "project.create", project, after=_project_snapshot(project))
        _notify_taker(project, actor)
        return project

    return _serialised(write)


def _taker_users(project: Project) -> list:
    """The accounts that answer for a project's taker: the member, the team leader, the unit's liaisons."""
    from gongzhi.accounts.models import RoleAssignment

    users = []
    if project.taker_person_id and project.taker_person.user_id:
        users.append(project.taker_person.user)
    team = project.taker_team
    if team is not None and team.leader_id and team.leader.user_id:
        users.append(team.leader.user)
    org = project.taker_organization or (team.unit if team is not None and team.unit_id else None)
    if org is not None:
        parts = [x for x in org.path.split("/") if x]
        covering = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        users += [ra.user for ra in RoleAssignment.objects.filter(
            role="unit_liaison", organization__path__in=covering).select_related("user")]
    return users


def _notify_taker(project: Project, actor) -> None:
    """Tell the taker's people about a dispatch, and the requesters that it was dispatched, in the
    dispatch's transaction."""
    from . import notices

    notices.taker_hears(project, actor, _taker_users(project))
    notices.requesters_hear(project, actor, notices.DISPATCHED)


def _notify_requesters(project: Project, actor, step: str = "done") -> None:
    """Tell each requester of a step of their need (taken, accepted, done)."""
    from . import notices

    notices.requesters_hear(project, actor, step)


# ---- projects ----

def project_get_for(*, actor, number) -> Project:
    """The project if it is in the actor's list (selectors.projects_visible_to, the list's own rule);
    the same 404 for missing and not yours."""
    from . import selectors

    project = selectors.projects_visible_to(actor).filter(number=str(number)).first()
    if project is None:
        raise NotFound("not_found", _("找不到该项目。"))
    return project


def _move_project(*, actor, project: Project, action, version, data, changes, audit_extra=None,
                  also=None) -> Project:
    _signed_in(actor)
    row = _pick(workflow.project_rows_for, workflow.PROJECT_ACTIONS, PROJECT_ACTION_LABELS, project, action,
                permissions.project_relations(actor, project), data, _("该项目"))

    def write():
        live = list(ProjectNeed.objects.filter(project=project, live=True).values_list("need_id", flat=True))
        qs = Project.objects.filter(pk=project.pk, state=row.source)
        if version not in (None, ""):
            qs = qs.filter(version=_version(version))
        if not qs.update(state=row.target, version=F("version") + 1, updated_at=timezone.now(), **changes):
            raise Conflict("stale", stale_message())
        project.refresh_from_db()
        need_state = workflow.NEED_STATE_FOR_PROJECT[row.target]
        Need.objects.filter(pk__in=live).update(state=need_state, version=F("version") + 1,
                                                updated_at=timezone.now())
        if row.target in (ProjectState.DECLINED, ProjectState.CANCELLED):
            ProjectNeed.objects.filter(project=project).update(live=False)
        audit.record(actor, f"project.{action}", project, before={"state": row.source},
                     after={"state": row.target, **{k: v for k, v in changes.items() if k != "closed_at"},
                            **(audit_extra or {})})
        if also is not None:
            also(project)
        return project

    return _serialised(write)


def project_accept(*, actor, project: Project, plan="", starts_on=None, ends_on=None, budget=None, people=None,
                   version=None) -> Project:
    """The taker accepts (接单), with its plan, dates, budget and people."""
    starts = _date(starts_on, field_label=_("开始日期"), required=False)
    ends = _date(ends_on, field_label=_("结束日期"), required=False)
    if starts and ends and ends < starts:
        raise ValidationFailed("ends_before_start", _("结束日期不能早于开始日期。"))
    changes = {
        "plan": _text(plan, field_label=_("实施计划"), max_len=TEXT_MAX, required=False),
        "starts_on": starts, "ends_on": ends,
        "budget": _decimal(budget, field_label=_("预算"), maximum=BUDGET_MAX, default=Decimal("0.00")),
        "people": _int(people, field_label=_("投入人数"), minimum=0, maximum=100000, default=0),
        "accepted_at": timezone.now(),
    }
    def also(accepted):
        if accepted.via == ProjectVia.DISPATCH:
            _notify_requesters(accepted, actor, "accepted")

    return _move_project(actor=actor, project=project, action=ProjectAction.ACCEPT, version=version, data=changes,
                         changes=changes, also=also)


def project_decline(*, actor, project: Project, reason, version=None) -> Project:
    """The taker declines a dispatch or withdraws a claim: the need goes back to open."""
    reason = _text(reason, field_label=_("谢绝原因"), max_len=500)
    changes = {"decline_reason": reason, "closed_at": timezone.now()}
    return _move_project(actor=actor, project=project, action=ProjectAction.DECLINE, version=version,
                         data=changes, changes=changes)


def project_cancel(*, actor, project: Project, reason, version=None) -> Project:
    reason = _text(reason, field_label=_("撤销原因"), max_len=500)
    changes = {"decline_reason": reason, "closed_at": timezone.now()}
    return _move_project(actor=actor, project=project, action=ProjectAction.CANCEL, version=version, data=changes,
                         changes=changes)


def check_photo(upload):
    from gongzhi.appeals.services import check_photo as _check

    return _check(upload)


def project_done(*, actor, project: Project, beneficiaries_served, hours, summary, photos=(),
                 version=None) -> Project:
    """The taker reports the outcome. A member taker's hours go to their time bank."""
    checked = [check_photo(p) for p in photos or ()]
    if len(checked) + project.photos.count() > PHOTO_MAX_COUNT:
        raise ValidationFailed("too_many_photos", _("每个项目最多 %(max)d 张照片。") % {"max": PHOTO_MAX_COUNT})
    changes = {
        "beneficiaries_served": _int(beneficiaries_served, field_label=_("服务人数"), minimum=0, maximum=1000000),
        "hours": _decimal(hours, field_label=_("服务时长"), maximum=HOURS_MAX, places=1),
        "summary": _text(summary, field_label=_("成效小结"), max_len=TEXT_MAX),
        "done_at": timezone.now(),
    }
    def also(done):
        now = timezone.now()
        for c in checked:
            photo = ProjectPhoto(project=done, content_type=c.content_type, size=len(c.data),
                                 sha256=hashlib.sha256(c.data).hexdigest(), uploaded_by=actor, uploaded_at=now)
            photo.file.save(f"{uuid.uuid4().hex}.{c.ext}", ContentFile(c.data), save=False)
            photo.save()
        _notify_requesters(done, actor)
        if done.taker_person_id and done.hours > 0:
            from gongzhi.timebank.services import credit_hours

            credit_hours(person=done.taker_person, hours=done.hours, source="project",
                         source_ref=f"{done.pk}:{done.taker_person_id}", memo=done.title, actor=actor)

    return _move_project(actor=actor, project=project, action=ProjectAction.DONE, version=version, data=changes,
                         changes=changes, audit_extra={"photos": len(checked)}, also=also)


def need_rate(*, actor, need: Need, rating, comment="", version=None) -> Need:
    """The requester rates the service (评单): 1–5 stars, once."""
    _signed_in(actor)
    stars = _int(rating, field_label=_("评分"), minimum=RATING_MIN, maximum=RATING_MAX)
    row = _pick(workflow.need_rows_for, workflow.NEED_ACTIONS, NEED_ACTION_LABELS, need, NeedAction.RATE,
                permissions.need_relations(actor, need), {"rating": stars}, _("该需求"))
    comment = _text(comment, field_label=_("评价"), max_len=500, required=False)
    project = Project.objects.filter(links__need=need, links__live=True).select_related("taker_person").first()
    refuse_self(actor, project.taker_person if project is not None else None,
                message=_("不能评价自己提供的服务。"))

    def write():
        qs = Need.objects.filter(pk=need.pk, state=row.source)
        if version not in (None, ""):
            qs = qs.filter(version=_version(version))
        if not qs.update(state=row.target, rating=stars, rating_comment=comment, rated_at=timezone.now(),
                         rated_by=actor, version=F("version") + 1, updated_at=timezone.now()):
            raise Conflict("stale", stale_message())
        need.refresh_from_db()
        audit.record(actor, "need.rate", need, before={"state": row.source},
                     after={"state": row.target, "rating": stars, "comment": comment})
        return need

    return _serialised(write)


def project_rate(*, actor, project: Project, rating, comment="") -> list[Need]:
    """Rate every done need of the project that the actor may rate (its requester); others get 403."""
    _signed_in(actor)
    mine = [n for n in project.needs.filter(links__live=True, state=NeedState.DONE)
            if NeedAction.RATE in permissions.need_actions(actor, n)]
    if not mine:
        if project.needs.filter(links__live=True, state=NeedState.DONE).exists():
            raise PermissionDenied("forbidden", _("只有提出需求的居民可以评价。"))
        raise Conflict("not_allowed_in_state", _("该项目尚未完成或已评价，现在不能评价。"))
    return [need_rate(actor=actor, need=n, rating=rating, comment=comment) for n in mine]


# ---- resources ----

def _resource_owner(actor, *, organization=None, team=None, person=None) -> dict:
    if organization is None and team is None and person is None:
        person = permissions.person_of(actor)
        if person is None:
            raise ValidationFailed("owner_required", _("请选择资源的提供方（成员单位、志愿服务队或党员）。"))
    given = [x for x in (organization, team, person) if x is not None]
    if len(given) != 1:
        raise ValidationFailed("one_owner", _("资源只能有一个提供方。"))
    if organization is not None:
        return {"owner_kind": TakerKind.ORGANIZATION, "organization": organization}
    if team is not None:
        return {"owner_kind": TakerKind.TEAM, "team": team}
    return {"owner_kind": TakerKind.PERSON, "person": person}


def _service_area(places, grids) -> tuple[list[Place], list[Grid]]:
    def load(model, values, label):
        out = []
        for v in values or ():
            if isinstance(v, model):
                out.append(v)
                continue
            obj = model.objects.filter(code=str(v).strip()).first()
            if obj is None and str(v).isdigit() and len(str(v)) < 12:
                obj = model.objects.filter(pk=v).first()
            if obj is None:
                raise ValidationFailed("bad_area", _("找不到%(what)s「%(v)s」。") % {"what": label, "v": v})
            out.append(obj)
        return out

    p = load(Place, places, _("社区"))
    g = load(Grid, grids, _("网格"))
    if not p and not g:
        raise ValidationFailed("area_required", _("请至少选择一个服务区域（社区或网格）。"))
    return p, g


def _resource_fields(fields: dict, *, partial: bool) -> dict:
    out = {}
    if not partial or "title" in fields:
        out["title"] = _text(fields.get("title"), field_label=_("名称"), max_len=TITLE_MAX)
    if not partial or "description" in fields:
        out["description"] = _text(fields.get("description"), field_label=_("说明"), max_len=TEXT_MAX,
                                   required=False)
    if not partial or "kind" in fields:
        out["kind"] = _choice(fields.get("kind"), ResourceKind, field_label=_("资源类型"),
                              default=ResourceKind.SERVICE)
    if not partial or "skill" in fields:
        out["skill"] = _choice(fields.get("skill"), Skill, field_label=_("服务类别"), default=Skill.OTHER)
    if not partial or "capacity" in fields:
        out["capacity"] = _int(fields.get("capacity"), field_label=_("可同时承接数"), minimum=1, maximum=10000,
                               default=1)
    if not partial or "availability" in fields:
        out["availability"] = _text(fields.get("availability"), field_label=_("可提供时间"), max_len=200,
                                    required=False)
    for key, label in (("available_from", _("起始日期")), ("available_until", _("截止日期"))):
        if not partial or key in fields:
            out[key] = _date(fields.get(key), field_label=label, required=False)
    if out.get("available_from") and out.get("available_until") and out["available_until"] < out["available_from"]:
        raise ValidationFailed("until_before_from", _("截止日期不能早于起始日期。"))
    if not partial or "lon" in fields or "lat" in fields:
        out["lon"], out["lat"] = _point(fields.get("lon"), fields.get("lat"))
    return out


def _resource_snapshot(r: Resource) -> dict:
    return {"title": r.title, "kind": r.kind, "skill": r.skill, "capacity": r.capacity, "active": r.active,
            "owner_kind": r.owner_kind, "owner": getattr(r.owner, "pk", None),
            "places": [p.pk for p in r.places.all()], "grids": [g.pk for g in r.grids.all()]}


def resource_create(*, actor, title, places=(), grids=(), organization=None, team=None, person=None,
                    **fields) -> Resource:
    """A unit (by its liaison), a team (by its leader) or a member (themself) lists what it offers."""
    _signed_in(actor)
    owner = _resource_owner(actor, organization=organization, team=team, person=person)
    values = _resource_fields({"title": title, **fields}, partial=False)
    area_places, area_grids = _service_area(places, grids)
    resource = Resource(**owner, **values, created_by=actor)
    resource.org_path, resource.place_path = owner_paths(resource.organization, resource.team, resource.person)
    if not permissions.can_edit_resource(actor, resource):
        raise PermissionDenied("forbidden", _("您不能为该提供方登记资源。"))

    def write():
        resource.save()
        resource.places.set(area_places)
        resource.grids.set(area_grids)
        audit.record(actor, "resource.create", resource, after=_resource_snapshot(resource))
        return resource

    return _serialised(write)


def resource_update(*, actor, resource: Resource, version=None, places=None, grids=None, **fields) -> Resource:
    _signed_in(actor)
    if not permissions.can_edit_resource(actor, resource):
        raise PermissionDenied("forbidden", _("您不能修改该资源。"))
    values = _resource_fields(fields, partial=True)
    area = None
    if places is not None or grids is not None:
        area = _service_area(places if places is not None else list(resource.places.all()),
                             grids if grids is not None else list(resource.grids.all()))

    def write():
        before = _resource_snapshot(resource)
        qs = Resource.objects.filter(pk=resource.pk)
        if version not in (None, ""):
            qs = qs.filter(version=_version(version))
        if not qs.update(version=F("version") + 1, updated_at=timezone.now(), **values):
            raise Conflict("stale", stale_message())
        resource.refresh_from_db()
        if area is not None:
            resource.places.set(area[0])
            resource.grids.set(area[1])
        audit.record(actor, "resource.update", resource, before=before, after=_resource_snapshot(resource))
        return resource

    return _serialised(write)


def resource_deactivate(*, actor, resource: Resource, version=None) -> Resource:
    _signed_in(actor)
    if not permissions.can_edit_resource(actor, resource):
        raise PermissionDenied("forbidden", _("您不能停用该资源。"))

    def write():
        qs = Resource.objects.filter(pk=resource.pk, active=True)
        if version not in (None, ""):
            qs = qs.filter(version=_version(version))
        if not qs.update(active=False, version=F("version") + 1, updated_at=timezone.now()):
            raise Conflict("stale", _("该资源已停用或已被他人修改，请刷新后查看。"))
        resource.refresh_from_db()
        audit.record(actor, "resource.deactivate", resource, before={"active": True}, after={"active": False})
        return resource

    return _serialised(write)


def resource_get_for(*, actor, pk) -> Resource:
    from . import selectors

    ok = str(pk).isdigit() and len(str(pk)) < 15
    resource = selectors.resources_visible_to(actor).filter(pk=pk).first() if ok else None
    if resource is None:
        raise NotFound("not_found", _("找不到该资源。"))
    return resource


__all__ = [
    "need_create", "need_update", "need_withdraw", "need_claim", "need_dispatch", "needs_dispatch_bundle",
    "need_rate", "need_get_for",
    "project_accept", "project_decline", "project_cancel", "project_done", "project_rate", "project_get_for",
    "resource_create", "resource_update", "resource_deactivate", "resource_get_for",
]
