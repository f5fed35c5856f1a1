"""An appeal's transitions (accept, hand on, hand back, resolve, rate, close, reject, merge) through workflow.TABLE."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed

from .. import hooks, selectors, workflow
from ..models import OPEN_STATES, TEXT_MAX, Appeal, Level, Satisfaction, State
from ..permissions import allowed_actions, relations
from ..workflow import ACTION_LABELS, LEVEL_DOWN, LEVEL_UP, Action
from .common import REASON_MAX, REDIRECT_MAX, _labels, _serialised, _text, _user_or_none, stale_message
from .handlers import _owner_below, level_holder
from .photos import _check_photos, _store_photos


@dataclass
class Change:
    fields: dict = field(default_factory=dict)
    note: str = ""
    data: dict = field(default_factory=dict)
    after: Callable | None = None  # runs once the compare-and-set has won


def _fresh(actor, appeal) -> Appeal:
    if isinstance(appeal, Appeal):
        return selectors.appeal_get_for(actor, appeal.pk)
    return selectors.appeal_get_for(actor, appeal)


def _stale(pk, actor) -> Conflict:
    now = selectors.with_related().get(pk=pk)
    return Conflict("stale", stale_message(), {"state": now.state, "version": now.version,
                                               "allowed_actions": allowed_actions(actor, now)})


def _pick(actor, appeal, action, data) -> workflow.Transition:
    if action not in workflow.ACTIONS or action == Action.SUBMIT or action in workflow.AUTO_ACTIONS:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    allowed = allowed_actions(actor, appeal)
    hint = (_("当前可执行：%(list)s。") % {"list": _labels(allowed)}) if allowed else _("当前没有您可执行的操作。")
    extra = {"state": appeal.state, "action": action, "allowed_actions": allowed}
    rows = workflow.rows_for(appeal.state, action)
    if not rows:
        raise Conflict("transition_not_allowed", _("该诉求当前为「%(state)s」，不能%(action)s。%(hint)s") % {
            "state": State(appeal.state).label, "action": ACTION_LABELS[action], "hint": hint}, extra)
    rel = relations(actor, appeal)
    mine = [r for r in rows if r.roles & rel]
    if not mine:
        raise PermissionDenied("forbidden", _("您没有权限对该诉求执行「%(action)s」。") % {
            "action": ACTION_LABELS[action]}, extra)
    ok = [r for r in mine if r.allows(appeal, data)]
    if not ok:
        reason = next((r.refusal for r in mine if r.refusal), None)
        msg = str(reason) if reason else _("该诉求当前不能%(action)s。") % {"action": ACTION_LABELS[action]}
        raise Conflict("transition_not_allowed", f"{msg}{hint}", extra)
    return ok[0]


def _version(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("bad_version", _("版本号必须是整数。")) from None


def _transition(*, actor, appeal, action, version, data, prepare, photos=()) -> Appeal:
    version = _version(version)

    def run() -> Appeal:
        a = _fresh(actor, appeal)
        if version is not None and version != a.version:
            raise _stale(a.pk, actor)
        row = _pick(actor, a, action, data)
        now = timezone.now()
        change = prepare(a, row, data, now)
        checked = _check_photos(a.pk, photos)
        updated = Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
            state=row.target, version=F("version") + 1, updated_at=now, **change.fields)
        if updated != 1:
            raise _stale(a.pk, actor)
        if change.after is not None:
            change.after(a, now)
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action=action, from_state=row.source,
                                   to_state=row.target, note=change.note, data=change.data, changes=change.fields)
        _store_photos(a, event, checked, actor, now)
        audit.record(actor, f"appeal.{action}", a,
                     before={"state": row.source, "version": a.version, "owner": a.owner_id,
                             "owner_level": a.owner_level},
                     after={"state": row.target, "version": a.version + 1, **change.data})
        return selectors.with_related().get(pk=a.pk)

    return _serialised(run)


def _respond_deadline(a: Appeal, now):
    respond_h, _resolve_h = a.category.hours(a.urgency)
    return now + dt.timedelta(hours=respond_h)


def appeal_accept(*, actor, appeal, version=None, note="") -> Appeal:
    """Take the appeal on (受理): whoever accepts becomes its owner; the resolve deadline starts to count."""
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)
        owner = _user_or_none(actor) or a.owner
        return Change(
            fields={"owner": owner, "accepted_at": a.accepted_at or now, "step_due": a.resolve_due},
            note=note_, data={"owner": owner.pk if owner else None, "owner_level": a.owner_level})

    return _transition(actor=actor, appeal=appeal, action=Action.ACCEPT, version=version, data={"note": note},
                       prepare=prepare)


def appeal_hand_on(*, actor, appeal, reason, version=None) -> Appeal:
    """Hand the appeal up one level (grid → community → street), with a reason; counted."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("上报原因"), max_len=REASON_MAX)
        to_level = LEVEL_UP[a.owner_level]
        owner = level_holder(to_level, grid_path=a.grid_path, place_path=a.place_path)
        if owner is None:
            raise Conflict("no_handler", _("%(place)s没有%(level)s层级的处理人账号，无法上报；请联系管理员配置。") % {
                "place": a.community.name, "level": Level(to_level).label})
        return Change(
            fields={"owner": owner, "owner_level": to_level, "handon_count": F("handon_count") + 1,
                    "step_due": _respond_deadline(a, now)},
            note=reason_,
            data={"reason": reason_, "from_level": a.owner_level, "to_level": to_level,
                  "from_owner": a.owner_id, "to_owner": owner.pk})

    return _transition(actor=actor, appeal=appeal, action=Action.HAND_ON, version=version,
                       data={"reason": reason}, prepare=prepare)


def appeal_hand_back(*, actor, appeal, reason, version=None) -> Appeal:
    """Send the appeal back down one level, with a reason; it lands accepted there and counts a bounce."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("退回原因"), max_len=REASON_MAX)
        to_level = LEVEL_DOWN[a.owner_level]
        owner = _owner_below(a, to_level)
        if owner is None:
            raise Conflict("no_handler", _("%(place)s没有%(level)s层级的处理人账号，无法退回。") % {
                "place": a.community.name, "level": Level(to_level).label})
        return Change(
            fields={"owner": owner, "owner_level": to_level, "bounce_count": F("bounce_count") + 1,
                    "accepted_at": a.accepted_at or now, "step_due": a.resolve_due},
            note=reason_,
            data={"reason": reason_, "from_level": a.owner_level, "to_level": to_level,
                  "from_owner": a.owner_id, "to_owner": owner.pk})

    return _transition(actor=actor, appeal=appeal, action=Action.HAND_BACK, version=version,
                       data={"reason": reason}, prepare=prepare)


def appeal_resolve(*, actor, appeal, note, version=None, photos=()) -> Appeal:
    """Report the result (办结), with a note and optional result photos; the reporter rates next."""
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("办理结果"), max_len=TEXT_MAX)
        return Change(fields={"resolved_at": now, "step_due": None}, note=note_, data={})

    return _transition(actor=actor, appeal=appeal, action=Action.RESOLVE, version=version, data={"note": note},
                       prepare=prepare, photos=photos)


def _bool(value):
    if isinstance(value, bool) or value is None:
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "on", "是"):
        return True
    if s in ("0", "false", "no", "off", "否"):
        return False
    return None


def appeal_rate(*, actor, appeal, resolved, satisfaction, comment="", version=None) -> Appeal:
    """The reporter rates the result. Unsatisfied the first time reopens it for redo; then it is final."""
    data = {"resolved": _bool(resolved), "satisfaction": satisfaction, "comment": comment}

    def prepare(a, row, data, now):
        if data["resolved"] is None:
            raise ValidationFailed("resolved_required", _("请选择问题是否已解决。"))
        if data["satisfaction"] not in Satisfaction.values:
            raise ValidationFailed("bad_satisfaction", _("请选择满意、基本满意或不满意。"))
        comment_ = _text(data["comment"], field_label=_("评价意见"), max_len=REASON_MAX, required=False)
        fields = {"rating_resolved": data["resolved"], "satisfaction": data["satisfaction"],
                  "rating_comment": comment_, "rated_at": now}
        reopen = row.target == State.REOPENED
        if reopen:
            respond_h, resolve_h = a.category.hours(a.urgency)
            fields.update(reopen_count=F("reopen_count") + 1, step_due=now + dt.timedelta(hours=respond_h),
                          resolve_due=now + dt.timedelta(hours=resolve_h))
        out = {"resolved": data["resolved"], "satisfaction": data["satisfaction"], "reopen": reopen}
        if a.reporter_id is None:
            out["callback"] = True  # staff recorded what the resident said on a call-back (回访)
        return Change(fields=fields, note=comment_, data=out)

    return _transition(actor=actor, appeal=appeal, action=Action.RATE, version=version, data=data, prepare=prepare)


def appeal_close(*, actor, appeal, note="", version=None) -> Appeal:
    """Close a rated appeal (staff, or the system)."""
    def prepare(a, row, data, now):
        return Change(fields={"closed_at": now, "step_due": None},
                      note=_text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False))

    return _transition(actor=actor, appeal=appeal, action=Action.CLOSE, version=version, data={"note": note},
                       prepare=prepare)


def appeal_reject(*, actor, appeal, reason, redirect_to, version=None) -> Appeal:
    """Decline an appeal out of scope, naming why and where the resident should turn instead."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("不予受理的理由"), max_len=REASON_MAX)
        where = _text(data["redirect_to"], field_label=_("建议反映渠道（负责单位及联系方式）"), max_len=REDIRECT_MAX)
        return Change(fields={"reject_reason": reason_, "redirect_to": where, "closed_at": now, "step_due": None},
                      note=reason_, data={"reason": reason_, "redirect_to": where})

    return _transition(actor=actor, appeal=appeal, action=Action.REJECT, version=version,
                       data={"reason": reason, "redirect_to": redirect_to}, prepare=prepare)


def appeal_merge(*, actor, appeal, into, version=None, note="") -> Appeal:
    """Merge a duplicate into another open appeal of the same category; the target counts it."""
    def prepare(a, row, data, now):
        number = _text(data["into"], field_label=_("合并到的诉求编号"), max_len=20)
        target = selectors.appeal_get_for(actor, number)
        if target.pk == a.pk:
            raise ValidationFailed("merge_self", _("不能把诉求合并到它自己。"))
        if target.category_id != a.category_id:
            raise ValidationFailed("merge_category", _("只能合并到同一分类的诉求（%(a)s ≠ %(b)s）。") % {
                "a": a.category.label, "b": target.category.label})
        if target.state not in OPEN_STATES:
            raise ValidationFailed("merge_closed", _("诉求 %(n)s 已不在办理中，不能合并到它。") % {"n": target.number})
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)

        def after(a, now):
            # The target must still be open when we commit, and it learns it has one more reporter.
            if not Appeal.objects.filter(pk=target.pk, state__in=OPEN_STATES).update(
                    merged_count=F("merged_count") + 1):
                raise Conflict("stale", _("诉求 %(n)s 刚刚已办结或关闭，不能合并到它。") % {"n": target.number})
            hooks.record_event(target, at=now, actor=_user_or_none(actor), action="merged_in",
                               from_state=target.state, to_state=target.state, note=note_, data={"from": a.number})

        return Change(fields={"merged_into": target, "closed_at": now, "step_due": None}, note=note_,
                      data={"into": target.number}, after=after)

    return _transition(actor=actor, appeal=appeal, action=Action.MERGE, version=version,
                       data={"into": into, "note": note}, prepare=prepare)


TRANSITION_SERVICES = {
    Action.ACCEPT: appeal_accept,
    Action.HAND_ON: appeal_hand_on,
    Action.HAND_BACK: appeal_hand_back,
    Action.RESOLVE: appeal_resolve,
    Action.RATE: appeal_rate,
    Action.REJECT: appeal_reject,
    Action.MERGE: appeal_merge,
    Action.CLOSE: appeal_close,
}


def appeal_act(*, actor, appeal, action: str, version=None, **fields) -> Appeal:
    """Dispatch one action by name (the API and the pages post actions by name)."""
    service = TRANSITION_SERVICES.get(action)
    if service is None:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    kwargs = {k: fields.get(k, () if k == "photos" else "") for k in _ACTION_PARAMS[action]}
    return service(actor=actor, appeal=appeal, version=version, **kwargs)


_ACTION_PARAMS = {
    Action.ACCEPT: ("note",),
    Action.HAND_ON: ("reason",),
    Action.HAND_BACK: ("reason",),
    Action.RESOLVE: ("note", "photos"),
    Action.RATE: ("resolved", "satisfaction", "comment"),
    Action.REJECT: ("reason", "redirect_to"),
    Action.MERGE: ("into", "note"),
    Action.CLOSE: ("note",),
}
