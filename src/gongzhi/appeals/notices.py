"""Notifications on appeal events: who hears of what (the outbox rows are written here).

Called by `hooks.record_event` inside the transition's transaction, so a message exists exactly
when its cause committed. Who hears:
  assigned  the new owner (submit, hand on, hand back, escalation by the sweep); each handler or
            liaison of a summoned organisation for its new work order
  due_soon  the owner of the step (the appeal's owner; a work order's organisation)
  overdue   the owner and the level above (grid → community → street → district); for a work
            order, its organisation and the street that summoned it. When the sweep escalates the
            appeal at once, the level above hears of it as its new assignment instead.
  result    the reporter: resolved, rejected (with the reason), merged, closed (by hand or by the sweep)
  comment   the owner, when anyone else comments (comments.py); the reporter, when staff do
  progress  the reporter: accepted (by which level), handed on or escalated (to which level),
            whistled (which departments), reopened
  rating    the owner when the reporter rates; the organisation when the street rates its work order
  progress  the street officer who blew the whistle, when an organisation reports for duty; result when
            it submits its result, assigned when it returns the work order; the organisation, when
            the street cancels it
Nobody is told of their own action, and a message never names anyone but its recipient: no
reporter name or phone (anonymous or not), no staff names — numbers, titles, deadlines only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_noop as N_

from gongzhi.notifications.messages import Msg
from gongzhi.notifications.models import Kind
from gongzhi.notifications.services import notify

from .models import Level, Satisfaction, State
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
COMMENT = "comment"  # the timeline event of a comment (comments.py)


def on_event(appeal, event, *, changes=None, work_order=None, work_order_changes=None) -> None:
    handlers = [h for h in (_HANDLERS.get(event.action), _REPORTER.get(event.action)) if h is not None]
    # Kept as message codes (rendered in each reader's language when shown); the stored fallback
    # text is in the site's language, whatever the language of the request that caused it.
    with translation.override(settings.LANGUAGE_CODE):
        for handler in handlers:
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


def _send(recipients, kind, appeal, event, title, body=None, link=None, target=""):
    notify(recipients, kind=kind, title=title, body=body if body is not None else Msg(), link=link or _link(appeal),
           appeal_number=appeal.number, target=target, exclude=event.actor, now=event.at)


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
        Action.SUBMIT: N_("您是这条诉求的首问责任人，请在 %(due)s 前响应。"),
        Action.HAND_ON: N_("下级上报了这条诉求，请在 %(due)s 前响应。"),
        Action.HAND_BACK: N_("上级把这条诉求退回给您办理，请在 %(due)s 前办结。"),
        SweepAction.ESCALATE: N_("这条诉求在下级超时未办，已自动上报给您，请在 %(due)s 前响应。"),
    }
    body = bodies.get(event.action) or N_("这条诉求已指派给您，请在 %(due)s 前处理。")
    _send([owner], Kind.ASSIGNED, appeal, event,
          title=Msg(N_("新诉求待办（%(level)s）：%(number)s %(title)s"),
                    level=Level(level).label, number=appeal.number, title=appeal.title),
          body=Msg(body, due=_when(due) or "—"))


def _whistled(appeal, event, changes, work_order):
    from .models import WhistleSummons

    for wo in WhistleSummons.objects.filter(pk__in=event.data.get("work_orders") or []).select_related("assignee"):
        _send(org_handlers(wo), Kind.ASSIGNED, appeal, event, link=_wo_link(wo.pk), target=_wo_target(wo.pk),
              title=Msg(N_("新工单：%(number)s %(title)s"), number=appeal.number, title=appeal.title),
              body=Msg(N_("街道召集%(org)s办理这条诉求：请在 %(report)s 前报到，%(resolve)s 前提交办理结果。"),
                       org=wo.assignee.name, report=_when(wo.report_due), resolve=_when(wo.resolve_due)))


def _result(appeal, event, changes, work_order):
    if appeal.reporter_id is None:
        return  # entered for a resident without an account: the hotline calls them back
    data = event.data or {}
    if event.action in (Action.RESOLVE, Action.ORDERS_RESOLVED):
        title = Msg(N_("您反映的诉求已办结：%(number)s"), number=appeal.number)
        body = Msg(N_("请查看办理结果并评价：问题是否解决、是否满意。"))
    elif event.action == Action.REJECT:
        title = Msg(N_("您反映的诉求不予受理：%(number)s"), number=appeal.number)
        body = Msg(N_("理由：%(reason)s\n建议反映渠道：%(where)s"),
                   reason=data.get("reason", ""), where=data.get("redirect_to", ""))
    else:  # merged
        title = Msg(N_("您反映的诉求已合并办理：%(number)s"), number=appeal.number)
        body = Msg(N_("同一问题已有诉求 %(into)s 在办理，将一并处理。"), into=data.get("into", ""))
    _send([appeal.reporter], Kind.RESULT, appeal, event, title=title, body=body)


def _reporter_step(appeal, event, changes, work_order):
    """The reporter hears of each step of their appeal they care about (results: `_result`).

    Only the steps, never who took them: the level, the departments summoned, the deadline.
    """
    if appeal.reporter_id is None:
        return  # no account (a hotline call): the hotline calls them back
    data = event.data or {}
    fields = {"number": appeal.number, "title": appeal.title}
    kind, actor = Kind.PROGRESS, event.actor
    if event.action == Action.ACCEPT:
        level = changes.get("owner_level") or appeal.owner_level
        title = Msg(N_("您反映的诉求已受理：%(number)s %(title)s"), **fields)
        body = Msg(N_("由%(level)s办理，请在 %(due)s 前办结。"), level=Level(level).label,
                   due=_when(changes.get("step_due") or appeal.step_due) or "—")
    elif event.action in (Action.HAND_ON, SweepAction.ESCALATE):
        level = changes.get("owner_level") or data.get("to_level") or appeal.owner_level
        title = Msg(N_("您反映的诉求已转交%(level)s办理：%(number)s %(title)s"), level=Level(level).label, **fields)
        body = Msg(N_("%(level)s将继续办理您的诉求。"), level=Level(level).label)
    elif event.action == Action.WHISTLE:
        from .models import WhistleSummons

        names = list(WhistleSummons.objects.filter(pk__in=data.get("work_orders") or [])
                     .order_by("pk").values_list("assignee__name", flat=True))
        title = Msg(N_("街道已召集部门办理您反映的诉求：%(number)s %(title)s"), **fields)
        body = Msg(N_("召集的部门：%(orgs)s。"), orgs=names)
    elif event.action == Action.RATE and event.to_state == State.REOPENED:
        # The reporter rated; the reopening (who redoes it, by when) is the system's answer to it,
        # so it reaches the reporter even though the rating was theirs.
        actor = None
        title = Msg(N_("您反映的诉求已重新办理：%(number)s %(title)s"), **fields)
        body = Msg(N_("%(level)s将重新办理，请在 %(due)s 前办结。"), level=Level(appeal.owner_level).label,
                   due=_when(changes.get("resolve_due")) or "—")
    elif event.action in (Action.CLOSE, SweepAction.AUTO_CLOSE):
        kind = Kind.RESULT
        title = Msg(N_("您反映的诉求已结案：%(number)s %(title)s"), **fields)
        body = (Msg(N_("办结后逾期未评价，诉求已自动结案。")) if event.action == SweepAction.AUTO_CLOSE
                else Msg(N_("感谢您的反映。")))
    else:
        return
    notify([appeal.reporter], kind=kind, title=title, body=body, link=_link(appeal), appeal_number=appeal.number,
           exclude=actor, now=event.at)


def _commented(appeal, event, changes, work_order):
    """A comment (comments.py): the owner hears of it, and the reporter of one from staff. The text
    is not copied (it may hold what the reporter wrote about themself): the link leads to it."""
    by_reporter = appeal.reporter_id is not None and event.actor_id == appeal.reporter_id
    if appeal.owner_id:
        _send([appeal.owner], Kind.COMMENT, appeal, event,
              title=Msg(N_("诉求有新的补充说明：%(number)s %(title)s"), number=appeal.number, title=appeal.title),
              body=Msg(N_("反映人补充了说明，请在办理过程中查看。") if by_reporter
                       else N_("办理人员补充了说明，请在办理过程中查看。")))
    if appeal.reporter_id is not None and not by_reporter and appeal.reporter_id != appeal.owner_id:
        _send([appeal.reporter], Kind.COMMENT, appeal, event,
              title=Msg(N_("您反映的诉求有新的说明：%(number)s %(title)s"), number=appeal.number, title=appeal.title),
              body=Msg(N_("办理人员补充了说明，请在办理过程中查看。")))


def _rated(appeal, event, changes, work_order):
    data = event.data or {}
    sat = data.get("satisfaction")
    label = Satisfaction(sat).label if sat in Satisfaction.values else sat
    body = Msg(N_("反映人认为问题已解决。") if data.get("resolved") else N_("反映人认为问题未解决。"))
    if data.get("reopen"):
        body = body + Msg(N_("诉求将重新办理。"))
    _send([appeal.owner], Kind.RATING, appeal, event,
          title=Msg(N_("诉求收到评价：%(number)s %(satisfaction)s"), number=appeal.number, satisfaction=label),
          body=body)


def _wo_rated(appeal, event, changes, work_order):
    data = event.data or {}
    _send(org_handlers(work_order), Kind.RATING, appeal, event, link=_wo_link(work_order.pk),
          target=_wo_target(work_order.pk),
          title=Msg(N_("街道评价了工单：%(number)s"), number=appeal.number),
          body=Msg(N_("响应速度 %(speed)s 分，办理结果 %(result)s 分。"), speed=data.get("speed"),
                   result=data.get("result")))


def _wo_progress(appeal, event, changes, work_order):
    """A summoned organisation reported for duty, submitted its result or returned the work order:
    the street officer who blew the whistle hears of it. A cancelled work order: the organisation.
    Reporting for duty is progress, not a result."""
    if work_order is None:
        return
    org = work_order.assignee.name
    texts = {
        SUMMONS_EVENTS[SummonsAction.REPORT]: (
            Kind.PROGRESS, N_("%(org)s已报到：%(number)s %(title)s"),
            Msg(N_("办理结果时限：%(due)s。"), due=_when(work_order.resolve_due))),
        SUMMONS_EVENTS[SummonsAction.RESOLVE]: (
            Kind.RESULT, N_("%(org)s提交了办理结果：%(number)s %(title)s"), Msg.verbatim(event.note)),
        SUMMONS_EVENTS[SummonsAction.RETURN]: (
            Kind.ASSIGNED, N_("%(org)s退回了工单：%(number)s %(title)s"),
            Msg(N_("退回理由：%(reason)s\n请改派其他部门或自行办理。"), reason=event.note)),
    }
    fields = {"org": org, "number": appeal.number, "title": appeal.title}
    if event.action == SUMMONS_EVENTS[SummonsAction.CANCEL]:
        _send(org_handlers(work_order), Kind.RESULT, appeal, event, link=_wo_link(work_order.pk),
              target=_wo_target(work_order.pk), title=Msg(N_("街道撤销了工单：%(number)s %(title)s"), **fields),
              body=Msg(N_("撤销理由：%(reason)s"), reason=event.note))
        return
    kind, title, body = texts[event.action]
    blower = work_order.whistle.blown_by if work_order.whistle_id else None
    _send([blower] if blower is not None else [], kind, appeal, event, link=_wo_link(work_order.pk),
          target=_wo_target(work_order.pk), title=Msg(title, **fields), body=body)


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
              title=Msg(N_("工单已超时（%(step)s）：%(number)s %(title)s") if overdue
                        else N_("工单即将到期（%(step)s）：%(number)s %(title)s"),
                        step=step_label, number=appeal.number, title=appeal.title),
              body=Msg(N_("%(org)s的%(step)s时限：%(due)s。"), org=data.get("organization", ""), step=step_label,
                       due=_when(data.get("due"))))
        return
    who = [appeal.owner] if appeal.owner_id else []
    if overdue and not data.get("escalates"):
        who += level_above(appeal, data.get("level") or appeal.owner_level)
    _send(who, kind, appeal, event,
          title=Msg(N_("诉求已超时（%(step)s）：%(number)s %(title)s") if overdue
                    else N_("诉求即将到期（%(step)s）：%(number)s %(title)s"),
                    step=step_label, number=appeal.number, title=appeal.title),
          body=Msg(N_("%(level)s层级的%(step)s时限：%(due)s。"), level=Level(data.get("level") or appeal.owner_level).label,
                   step=step_label, due=_when(data.get("due"))))


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
    COMMENT: _commented,
}

# The reporter's side of the same events (beside the staff's): steps, not results.
_REPORTER = {
    Action.ACCEPT: _reporter_step,
    Action.HAND_ON: _reporter_step,
    SweepAction.ESCALATE: _reporter_step,
    Action.WHISTLE: _reporter_step,
    Action.RATE: _reporter_step,
    Action.CLOSE: _reporter_step,
    SweepAction.AUTO_CLOSE: _reporter_step,
}
