"""Notifications on appeal events: who hears of what (the outbox rows are written here).

Called by `hooks.record_event` inside the transition's transaction, so a message exists exactly
when its cause committed. Who hears:
  assigned  the new owner (submit, hand on, hand back, escalation by the sweep); each handler or
            liaison of a summoned organisation for its new work order
  due_soon  the owner of the step (the appeal's owner; a work order's organisation)
  overdue   the owner and the level above (grid → community → street → district); for a work
            order, its organisation and the street that summoned it. When the sweep escalates the
            appeal at once, the level above hears of it as its new assignment instead.
  result    the reporter: resolved, rejected (with the reason), merged
  rating    the owner when the reporter rates; the organisation when the street rates its work order
  progress  the street officer who blew the whistle, when an organisation reports for duty, submits its
            result or returns the work order; the organisation, when the street cancels it
Nobody is told of their own action, and a message never names anyone but its recipient: no
reporter name or phone (anonymous or not), no staff names — numbers, titles, deadlines only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.notifications.models import Kind
from gongzhi.notifications.services import notify

from .models import Level, Satisfaction
from .workflow import (
    DUE_SOON,
    LEVEL_UP,
    OVERDUE,
    STEP_LABELS,
    SUMMONS_EVENTS,
    Action,
    SummonsAction,
    SweepAction,
)

ORG_ROLES = ("department_handler", "unit_liaison")


def on_event(appeal, event, *, changes=None, work_order=None, work_order_changes=None) -> None:
    handler = _HANDLERS.get(event.action)
    if handler is not None:
        # Written once, in the site's language, whatever the language of the request that caused it.
        with translation.override(settings.LANGUAGE_CODE):
            handler(appeal, event, changes or {}, work_order)


# ---- who ----

def _ancestors(path: str) -> list[str]:
    parts = [p for p in (path or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _narrowest(assignments, node) -> list:
    """The users on the narrowest scope node that has any (a parent office only when the unit has nobody)."""
    rows = [ra for ra in assignments if ra.user.is_active]
    if not rows:
        return []
    depth = max(len(getattr(ra, node).path) for ra in rows)
    return sorted({ra.user for ra in rows if len(getattr(ra, node).path) == depth}, key=lambda u: u.pk)


def org_handlers(work_order) -> list:
    """The department handlers / unit liaisons of the summoned organisation (else of its nearest parent)."""
    from gongzhi.accounts.models import RoleAssignment

    rows = (RoleAssignment.objects.filter(role__in=ORG_ROLES, organization__path__in=_ancestors(work_order.assignee_path))
            .select_related("user", "organization"))
    return _narrowest(rows, "organization")


def district_admins(appeal) -> list:
    from gongzhi.accounts.models import RoleAssignment

    rows = (RoleAssignment.objects.filter(role="district_admin", place__path__in=_ancestors(appeal.place_path))
            .select_related("user", "place"))
    return _narrowest(rows, "place")


def level_above(appeal, level: str) -> list:
    """Who answers for the level above `level`: its on-duty holder; above the street, the district."""
    from . import services

    up = LEVEL_UP.get(level)
    if up is None:
        return district_admins(appeal)
    holder = services.level_holder(up, grid_path=appeal.grid_path, place_path=appeal.place_path)
    return [holder] if holder is not None else []


# ---- what ----

def _when(value) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _link(appeal) -> str:
    return f"/appeals/{appeal.number}/"


def _wo_link(pk) -> str:
    return f"/appeals/workorders/{pk}/"


def _wo_target(pk) -> str:
    return f"appeals.whistlesummons:{pk}"


def _send(recipients, kind, appeal, event, title, body="", link=None, target=""):
    notify(recipients, kind=kind, title=title, body=body, link=link or _link(appeal), appeal_number=appeal.number,
           target=target, exclude=event.actor, now=event.at)


def _assigned(appeal, event, changes, work_order):
    if event.action == Action.SUBMIT:
        owner, due = appeal.owner, appeal.step_due
    else:
        owner, due = changes.get("owner"), changes.get("step_due")
        if owner is None or not hasattr(owner, "pk") or owner.pk == appeal.owner_id:
            return
    if owner is None:
        return
    level = changes.get("owner_level") or appeal.owner_level
    bodies = {
        Action.SUBMIT: _("您是这条诉求的首问责任人，请在 %(due)s 前响应。"),
        Action.HAND_ON: _("下级上报了这条诉求，请在 %(due)s 前响应。"),
        Action.HAND_BACK: _("上级把这条诉求退回给您办理，请在 %(due)s 前办结。"),
        SweepAction.ESCALATE: _("这条诉求在下级超时未办，已自动上报给您，请在 %(due)s 前响应。"),
    }
    body = bodies.get(event.action) or _("这条诉求已指派给您，请在 %(due)s 前处理。")
    _send([owner], Kind.ASSIGNED, appeal, event,
          title=_("新诉求待办（%(level)s）：%(number)s %(title)s") % {
              "level": Level(level).label, "number": appeal.number, "title": appeal.title},
          body=body % {"due": _when(due) or "—"})


def _whistled(appeal, event, changes, work_order):
    from .models import WhistleSummons

    for wo in WhistleSummons.objects.filter(pk__in=event.data.get("work_orders") or []).select_related("assignee"):
        _send(org_handlers(wo), Kind.ASSIGNED, appeal, event, link=_wo_link(wo.pk), target=_wo_target(wo.pk),
              title=_("新工单：%(number)s %(title)s") % {"number": appeal.number, "title": appeal.title},
              body=_("街道召集%(org)s办理这条诉求：请在 %(report)s 前报到，%(resolve)s 前提交办理结果。") % {
                  "org": wo.assignee.name, "report": _when(wo.report_due), "resolve": _when(wo.resolve_due)})


def _result(appeal, event, changes, work_order):
    if appeal.reporter_id is None:
        return  # entered for a resident without an account: the hotline calls them back
    data = event.data or {}
    if event.action in (Action.RESOLVE, Action.ORDERS_RESOLVED):
        title = _("您反映的诉求已办结：%(number)s") % {"number": appeal.number}
        body = _("请查看办理结果并评价：问题是否解决、是否满意。")
    elif event.action == Action.REJECT:
        title = _("您反映的诉求不予受理：%(number)s") % {"number": appeal.number}
        body = _("理由：%(reason)s\n建议反映渠道：%(where)s") % {
            "reason": data.get("reason", ""), "where": data.get("redirect_to", "")}
    else:  # merged
        title = _("您反映的诉求已合并办理：%(number)s") % {"number": appeal.number}
        body = _("同一问题已有诉求 %(into)s 在办理，将一并处理。") % {"into": data.get("into", "")}
    _send([appeal.reporter], Kind.RESULT, appeal, event, title=title, body=body)


def _rated(appeal, event, changes, work_order):
    data = event.data or {}
    sat = data.get("satisfaction")
    label = Satisfaction(sat).label if sat in Satisfaction.values else sat
    _send([appeal.owner], Kind.RATING, appeal, event,
          title=_("诉求收到评价：%(number)s %(satisfaction)s") % {"number": appeal.number, "satisfaction": label},
          body=(_("反映人认为问题已解决。") if data.get("resolved") else _("反映人认为问题未解决。"))
          + (_("诉求将重新办理。") if data.get("reopen") else ""))


def _wo_rated(appeal, event, changes, work_order):
    data = event.data or {}
    _send(org_handlers(work_order), Kind.RATING, appeal, event, link=_wo_link(work_order.pk),
          target=_wo_target(work_order.pk),
          title=_("街道评价了工单：%(number)s") % {"number": appeal.number},
          body=_("响应速度 %(speed)s 分，办理结果 %(result)s 分。") % {
              "speed": data.get("speed"), "result": data.get("result")})


def _wo_progress(appeal, event, changes, work_order):
    """A summoned organisation reported for duty, submitted its result or returned the work order:
    the street officer who blew the whistle hears of it. A cancelled work order: the organisation."""
    if work_order is None:
        return
    org = work_order.assignee.name
    texts = {
        SUMMONS_EVENTS[SummonsAction.REPORT]: (
            Kind.RESULT, _("%(org)s已报到：%(number)s %(title)s"),
            _("办理结果时限：%(due)s。") % {"due": _when(work_order.resolve_due)}),
        SUMMONS_EVENTS[SummonsAction.RESOLVE]: (
            Kind.RESULT, _("%(org)s提交了办理结果：%(number)s %(title)s"), event.note),
        SUMMONS_EVENTS[SummonsAction.RETURN]: (
            Kind.ASSIGNED, _("%(org)s退回了工单：%(number)s %(title)s"),
            _("退回理由：%(reason)s\n请改派其他部门或自行办理。") % {"reason": event.note}),
    }
    fields = {"org": org, "number": appeal.number, "title": appeal.title}
    if event.action == SUMMONS_EVENTS[SummonsAction.CANCEL]:
        _send(org_handlers(work_order), Kind.RESULT, appeal, event, link=_wo_link(work_order.pk),
              target=_wo_target(work_order.pk), title=_("街道撤销了工单：%(number)s %(title)s") % fields,
              body=_("撤销理由：%(reason)s") % {"reason": event.note})
        return
    kind, title, body = texts[event.action]
    blower = work_order.whistle.blown_by if work_order.whistle_id else None
    _send([blower] if blower is not None else [], kind, appeal, event, link=_wo_link(work_order.pk),
          target=_wo_target(work_order.pk), title=title % fields, body=body)


def _warning(appeal, event, changes, work_order):
    data = event.data or {}
    step = data.get("step", "")
    step_label = STEP_LABELS.get(step, step)
    overdue = event.action == OVERDUE
    kind = Kind.OVERDUE if overdue else Kind.DUE_SOON
    wo_pk = data.get("work_order")
    if wo_pk:
        from .models import WhistleSummons

        wo = work_order or WhistleSummons.objects.select_related("assignee").get(pk=wo_pk)
        who = org_handlers(wo) + ([appeal.owner] if overdue and appeal.owner_id else [])
        _send(who, kind, appeal, event, link=_wo_link(wo.pk), target=_wo_target(wo.pk),
              title=(_("工单已超时（%(step)s）：%(number)s %(title)s") if overdue
                             else _("工单即将到期（%(step)s）：%(number)s %(title)s")) % {
                  "step": step_label, "number": appeal.number, "title": appeal.title},
              body=_("%(org)s的%(step)s时限：%(due)s。") % {
                  "org": data.get("organization", ""), "step": step_label, "due": _when(data.get("due"))})
        return
    who = [appeal.owner] if appeal.owner_id else []
    if overdue and not data.get("escalates"):
        who += level_above(appeal, data.get("level") or appeal.owner_level)
    _send(who, kind, appeal, event,
          title=(_("诉求已超时（%(step)s）：%(number)s %(title)s") if overdue
                         else _("诉求即将到期（%(step)s）：%(number)s %(title)s")) % {
              "step": step_label, "number": appeal.number, "title": appeal.title},
          body=_("%(level)s层级的%(step)s时限：%(due)s。") % {
              "level": Level(data.get("level") or appeal.owner_level).label, "step": step_label,
              "due": _when(data.get("due"))})


_HANDLERS = {
    Action.SUBMIT: _assigned,
    Action.HAND_ON: _assigned,
    Action.HAND_BACK: _assigned,
    SweepAction.ESCALATE: _assigned,
    Action.WHISTLE: _whistled,
    Action.RESOLVE: _result,
    Action.ORDERS_RESOLVED: _result,
    Action.REJECT: _result,
    Action.MERGE: _result,
    Action.RATE: _rated,
    SUMMONS_EVENTS[SummonsAction.RATE]: _wo_rated,
    SUMMONS_EVENTS[SummonsAction.REPORT]: _wo_progress,
    SUMMONS_EVENTS[SummonsAction.RESOLVE]: _wo_progress,
    SUMMONS_EVENTS[SummonsAction.RETURN]: _wo_progress,
    SUMMONS_EVENTS[SummonsAction.CANCEL]: _wo_progress,
    OVERDUE: _warning,
    DUE_SOON: _warning,
}
