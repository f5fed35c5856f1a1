"""The whistle (吹哨) and its work orders (工单): summoning departments and their steps to a rating."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed

from .. import hooks, selectors, workflow
from ..models import (
    RATING_MAX,
    RATING_MIN,
    SUMMONS_DROPPED_STATES,
    SUMMONS_OPEN_STATES,
    TEXT_MAX,
    Appeal,
    AppealPhoto,
    State,
    SummonsState,
    Whistle,
    WhistleSummons,
)
from ..permissions import allowed_work_order_actions, summons_relations
from ..workflow import SUMMONS_ACTION_LABELS, Action, SummonsAction
from .common import PHOTO_MAX_COUNT, REASON_MAX, _serialised, _text, _user_or_none
from .photos import CheckedPhoto, _store_photos, check_photo
from .transitions import Change, _stale, _transition, _version

SUMMONS_MAX = 20


def work_order_stale_message():
    return _("该工单已被他人处理，请刷新后查看。")


def _item(entry, key):
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def _local(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def _deadline(value, *, field_label, org_name, default, now):
    """An aware datetime in the future: a datetime, or ISO 8601 text (no offset means Asia/Shanghai)."""
    if value in (None, ""):
        return default
    when = value
    if not isinstance(value, dt.datetime):
        try:
            when = parse_datetime(str(value).strip())
        except ValueError:
            when = None
        if when is None:
            raise ValidationFailed("bad_deadline", _("「%(org)s」的%(field)s格式不正确：%(value)s（例如 2025-06-30T18:00）。") % {
                "org": org_name, "field": field_label, "value": value})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when <= now:
        raise ValidationFailed("deadline_past", _("「%(org)s」的%(field)s %(when)s 已经过去，请选择将来的时间。") % {
            "org": org_name, "field": field_label, "when": _local(when)})
    horizon = settings.DEADLINE_HORIZON_DAYS
    if when > now + dt.timedelta(days=horizon):
        try:
            shown = _local(when)
        except OverflowError:  # 9999-12-31T23:59Z has no local time
            shown = when.isoformat()
        raise ValidationFailed("deadline_too_far", _("「%(org)s」的%(field)s %(when)s 太远：时限最多为 %(days)d 天之内。") % {
            "org": org_name, "field": field_label, "when": shown, "days": horizon})
    return when


def _organization_ids(items) -> list[int]:
    ids = []
    for entry in items:
        raw = _item(entry, "organization_id")
        if raw is None and _item(entry, "organization") is not None:
            raw = getattr(_item(entry, "organization"), "pk", _item(entry, "organization"))
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed("bad_organization", _("请选择要召集的职能部门或成员单位。")) from None
    return ids


def whistle_blow(*, actor, appeal, summons, note="", version=None) -> Appeal:
    """Blow the whistle (吹哨): summon departments or member units to an appeal at street level.

    Each summoned organisation gets a work order with a report-for-duty deadline and a resolve
    deadline. They default from the category (report within its respond hours, resolve within its
    resolve hours), may be set per organisation, and are never in the past. The appeal goes to
    dispatched; the officer who whistles becomes its owner.
    """
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("吹哨说明"), max_len=REASON_MAX, required=False)
        items = list(data["summons"] or ())
        if not items:
            raise ValidationFailed("summons_required", _("请至少选择一个要召集的职能部门或成员单位。"))
        if len(items) > SUMMONS_MAX:
            raise ValidationFailed("too_many_summons", _("一次吹哨最多召集 %(max)d 个单位。") % {"max": SUMMONS_MAX})
        ids = _organization_ids(items)
        if len(set(ids)) != len(ids):
            raise ValidationFailed("duplicate_organization", _("同一个单位只需召集一次，请删去重复的行。"))
        orgs = {o.pk: o for o in selectors.summonable_organizations(a).filter(pk__in=ids)}
        for pk in ids:
            if pk not in orgs:
                raise ValidationFailed("bad_organization", _(
                    "编号为 %(id)s 的单位不是本区的职能部门或成员单位，不能召集。") % {"id": pk})
        busy = list(WhistleSummons.objects.filter(appeal=a, assignee_id__in=ids, state__in=SUMMONS_OPEN_STATES)
                    .values_list("assignee__name", flat=True))
        if busy:
            raise ValidationFailed("already_summoned", _("「%(org)s」已有本诉求的工单在办，不需重复召集。") % {
                "org": "、".join(busy)})
        respond_h, resolve_h = a.category.hours(a.urgency)
        plan = []
        for entry, pk in zip(items, ids, strict=True):
            org = orgs[pk]
            report_due = _deadline(_item(entry, "report_due"), field_label=_("报到时限"), org_name=org.name,
                                   default=now + dt.timedelta(hours=respond_h), now=now)
            resolve_due = _deadline(_item(entry, "resolve_due"), field_label=_("办结时限"), org_name=org.name,
                                    default=now + dt.timedelta(hours=resolve_h), now=now)
            if resolve_due < report_due:
                raise ValidationFailed("resolve_before_report", _(
                    "「%(org)s」的办结时限（%(resolve)s）不能早于报到时限（%(report)s）。") % {
                    "org": org.name, "resolve": _local(resolve_due), "report": _local(report_due)})
            plan.append((org, report_due, resolve_due))
        pending = list(WhistleSummons.objects.filter(appeal=a, state__in=SUMMONS_OPEN_STATES)
                       .values_list("step_due", flat=True))
        out = {"organizations": [org.name for org, _r, _d in plan]}

        def after(a, now):
            whistle = Whistle.objects.create(appeal=a, blown_by=actor, at=now, note=note_)
            made = [WhistleSummons.objects.create(
                appeal=a, whistle=whistle, assignee=org, assignee_path=org.path, round=a.reopen_count,
                summoned_at=now, report_due=report_due, resolve_due=resolve_due, step_due=report_due)
                for org, report_due, resolve_due in plan]
            out.update(whistle=whistle.pk, work_orders=[wo.pk for wo in made],
                       deadlines=[[_local(wo.report_due), _local(wo.resolve_due)] for wo in made])

        return Change(fields={"owner": actor, "accepted_at": a.accepted_at or now,
                              "step_due": min([r for _o, r, _d in plan] + pending)},
                      note=note_, data=out, after=after)

    return _transition(actor=actor, appeal=appeal, action=Action.WHISTLE, version=version,
                       data={"note": note, "summons": summons}, prepare=prepare)


def _work_order_stale(pk, actor) -> Conflict:
    now = selectors.work_orders_with_related().get(pk=pk)
    return Conflict("stale", work_order_stale_message(), {
        "state": now.state, "version": now.version, "allowed_actions": allowed_work_order_actions(actor, now)})


def _summons_labels(actions) -> str:
    return "、".join(str(SUMMONS_ACTION_LABELS.get(a, a)) for a in actions)


def _pick_summons(actor, wo, action, data) -> workflow.Transition:
    if action not in workflow.SUMMONS_ACTIONS:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    allowed = allowed_work_order_actions(actor, wo)
    hint = (_("当前可执行：%(list)s。") % {"list": _summons_labels(allowed)}) if allowed else _("当前没有您可执行的操作。")
    extra = {"state": wo.state, "action": action, "allowed_actions": allowed}
    rows = workflow.summons_rows_for(wo.state, action)
    label = SUMMONS_ACTION_LABELS[action]
    if not rows:
        raise Conflict("transition_not_allowed", _("该工单当前为「%(state)s」，不能%(action)s。%(hint)s") % {
            "state": SummonsState(wo.state).label, "action": label, "hint": hint}, extra)
    rel = summons_relations(actor, wo)
    mine = [r for r in rows if r.roles & rel]
    if not mine:
        raise PermissionDenied("forbidden", _("您没有权限对该工单执行「%(action)s」。") % {"action": label}, extra)
    ok = [r for r in mine if r.allows(wo, data)]
    if not ok:
        reason = next((r.refusal for r in mine if r.refusal), None)
        msg = str(reason) if reason else _("该工单当前不能%(action)s。") % {"action": label}
        raise Conflict("transition_not_allowed", f"{msg}{hint}", extra)
    return ok[0]


def _check_work_order_photos(wo_pk, uploads) -> list[CheckedPhoto]:
    checked = [check_photo(u) for u in uploads or ()]
    existing = AppealPhoto.objects.filter(work_order_id=wo_pk).count()
    if existing + len(checked) > PHOTO_MAX_COUNT:
        raise ValidationFailed("too_many_photos", _("每个工单最多 %(max)d 张照片（已有 %(n)d 张）。") % {
            "max": PHOTO_MAX_COUNT, "n": existing})
    return checked


def _settle(a: Appeal, now, trigger: WhistleSummons) -> None:
    """After a work order changed, with the appeal row locked: resolve the appeal when every work
    order of this round is resolved, send it back to the street when none is left, else move its
    step deadline to the most urgent pending one."""
    if a.state != State.DISPATCHED:
        return
    live = list(WhistleSummons.objects.filter(appeal_id=a.pk, round=a.reopen_count)
                .exclude(state__in=SUMMONS_DROPPED_STATES).values_list("state", "step_due"))
    if live and all(state == SummonsState.RESOLVED for state, _due in live):
        action, fields = Action.ORDERS_RESOLVED, {"resolved_at": now, "step_due": None}
    elif not live:
        action, fields = Action.BACK_TO_STREET, {"accepted_at": a.accepted_at or now, "step_due": a.resolve_due}
    else:
        due = min(d for state, d in live if state in SUMMONS_OPEN_STATES)
        Appeal.objects.filter(pk=a.pk).update(step_due=due, updated_at=now)
        return
    row = workflow.rows_for(a.state, action)[0]
    if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
            state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
        raise _stale(a.pk, None)
    data = {"work_order": trigger.pk, "work_orders": len(live)}
    hooks.record_event(a, at=now, actor=None, action=action, from_state=row.source, to_state=row.target,
                       data=data, changes=fields, work_order=trigger)
    audit.record(None, f"appeal.{action}", a, before={"state": row.source, "version": a.version},
                 after={"state": row.target, "version": a.version + 1, **data})


def _summons_transition(*, actor, work_order, action, version, data, prepare, photos=()) -> WhistleSummons:
    version = _version(version)

    def run() -> WhistleSummons:
        pk = work_order.pk if isinstance(work_order, WhistleSummons) else work_order
        seen = selectors.work_order_get_for(actor, pk)  # 404 before anything is locked
        # Every work-order write locks its appeal first, so one appeal's work orders change one at a
        # time and the count in _settle sees every other writer's committed result (on SQLite the
        # IMMEDIATE transaction already holds the database's write lock).
        a = Appeal.objects.select_for_update().select_related("category").get(pk=seen.appeal_id)
        wo = selectors.work_orders_with_related().get(pk=seen.pk)
        if version is not None and version != wo.version:
            raise _work_order_stale(wo.pk, actor)
        row = _pick_summons(actor, wo, action, data)
        now = timezone.now()
        change = prepare(wo, row, data, now)
        checked = _check_work_order_photos(wo.pk, photos)
        updated = WhistleSummons.objects.filter(pk=wo.pk, state=row.source, version=wo.version).update(
            state=row.target, version=F("version") + 1, **change.fields)
        if updated != 1:
            raise _work_order_stale(wo.pk, actor)
        data_out = {"work_order": wo.pk, "organization": wo.assignee.name, "order_from": row.source,
                    "order_to": row.target, **change.data}
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action=workflow.SUMMONS_EVENTS[action],
                                   from_state=a.state, to_state=a.state, note=change.note, data=data_out,
                                   work_order=wo, work_order_changes={"state": row.target, **change.fields})
        _store_photos(a, event, checked, actor, now, work_order=wo)
        audit.record(actor, f"workorder.{action}", wo, before={"state": row.source, "version": wo.version},
                     after={"state": row.target, "version": wo.version + 1, "appeal": a.number, **change.data})
        if row.source != row.target:
            _settle(a, now, wo)
        return selectors.work_orders_with_related().get(pk=wo.pk)

    return _serialised(run)


def summons_report(*, actor, work_order, version=None, note="") -> WhistleSummons:
    """Report for duty (报到): the organisation takes the work order on; its resolve deadline now counts."""
    def prepare(wo, row, data, now):
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)
        return Change(fields={"reported_at": now, "reported_by": _user_or_none(actor), "step_due": wo.resolve_due},
                      note=note_)

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.REPORT, version=version,
                               data={"note": note}, prepare=prepare)


def summons_resolve(*, actor, work_order, note, version=None, photos=()) -> WhistleSummons:
    """Submit the result (办理结果) with optional photos. The appeal resolves with its last work order."""
    def prepare(wo, row, data, now):
        note_ = _text(data["note"], field_label=_("办理结果"), max_len=TEXT_MAX)
        return Change(fields={"resolved_at": now, "resolved_by": _user_or_none(actor), "result_note": note_},
                      note=note_)

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RESOLVE, version=version,
                               data={"note": note}, prepare=prepare, photos=photos)


def summons_return(*, actor, work_order, reason, version=None) -> WhistleSummons:
    """The organisation says the work order is not theirs, with a reason; if every work order comes
    back, the appeal returns to the street."""
    def prepare(wo, row, data, now):
        reason_ = _text(data["reason"], field_label=_("退回原因"), max_len=REASON_MAX)
        return Change(fields={"closed_at": now, "closed_by": _user_or_none(actor), "reason": reason_},
                      note=reason_, data={"reason": reason_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RETURN, version=version,
                               data={"reason": reason}, prepare=prepare)


def summons_cancel(*, actor, work_order, reason, version=None) -> WhistleSummons:
    """The street withdraws a summons it no longer needs, with a reason."""
    def prepare(wo, row, data, now):
        reason_ = _text(data["reason"], field_label=_("撤销原因"), max_len=REASON_MAX)
        return Change(fields={"closed_at": now, "closed_by": _user_or_none(actor), "reason": reason_},
                      note=reason_, data={"reason": reason_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.CANCEL, version=version,
                               data={"reason": reason}, prepare=prepare)


def _score(value, field_label) -> int:
    if isinstance(value, bool):
        value = None
    try:
        n = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        n = None
    if n is None or not RATING_MIN <= n <= RATING_MAX:
        raise ValidationFailed("bad_rating", _("请为%(field)s打 %(min)d 至 %(max)d 分。") % {
            "field": field_label, "min": RATING_MIN, "max": RATING_MAX})
    return n


def summons_rate(*, actor, work_order, speed, result, comment="", version=None) -> WhistleSummons:
    """The street rates a resolved work order (reverse evaluation): response speed and result, 1–5, once."""
    def prepare(wo, row, data, now):
        speed_ = _score(data["speed"], _("响应速度"))
        result_ = _score(data["result"], _("办理结果"))
        comment_ = _text(data["comment"], field_label=_("评价意见"), max_len=REASON_MAX, required=False)
        return Change(fields={"rating_speed": speed_, "rating_result": result_, "rating_comment": comment_,
                              "rated_at": now, "rated_by": _user_or_none(actor)},
                      note=comment_, data={"speed": speed_, "result": result_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RATE, version=version,
                               data={"speed": speed, "result": result, "comment": comment}, prepare=prepare)


SUMMONS_SERVICES = {
    SummonsAction.REPORT: summons_report,
    SummonsAction.RESOLVE: summons_resolve,
    SummonsAction.RETURN: summons_return,
    SummonsAction.CANCEL: summons_cancel,
    SummonsAction.RATE: summons_rate,
}


_SUMMONS_PARAMS = {
    SummonsAction.REPORT: ("note",),
    SummonsAction.RESOLVE: ("note", "photos"),
    SummonsAction.RETURN: ("reason",),
    SummonsAction.CANCEL: ("reason",),
    SummonsAction.RATE: ("speed", "result", "comment"),
}


def summons_act(*, actor, work_order, action: str, version=None, **fields) -> WhistleSummons:
    """Dispatch one work-order action by name (the API and the pages post actions by name)."""
    service = SUMMONS_SERVICES.get(action)
    if service is None:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    kwargs = {k: fields.get(k, () if k == "photos" else "") for k in _SUMMONS_PARAMS[action]}
    return service(actor=actor, work_order=work_order, version=version, **kwargs)
