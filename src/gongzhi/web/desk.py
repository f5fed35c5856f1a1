"""Each role's home is its desk: the counts of its work (each a link to the list behind it), the most
urgent items first with the one action each needs most, and for residents their own appeals and wishes.

Reads only, scoped to the actor through the selectors the lists use: a count here and its list are
built from the same filter (selectors.inbox_show_q, work_order_show_q, MINE_SHOWS), so the number on
the desk is the number of rows behind its link. Every part costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role
from gongzhi.appeals import selectors as appeal_selectors
from gongzhi.appeals.models import OPEN_STATES, Appeal
from gongzhi.appeals.permissions import VIEW_ROLES, allowed_actions, allowed_work_order_actions, scope_q
from gongzhi.appeals.workflow import ACTION_LABELS, SUMMONS_ACTION_LABELS, Action, SummonsAction
from gongzhi.core import scopes

ITEMS = 10  # rows of work shown on the desk; the rest is one click away behind the counts
# The one action an item needs most, first match wins: take it on, finish it, call in departments,
# pass it up. Only actions the workflow allows the actor now are considered.
APPEAL_ACTION_ORDER = (Action.ACCEPT, Action.RESOLVE, Action.WHISTLE, Action.HAND_ON, Action.RATE)
WORK_ORDER_ACTION_ORDER = (SummonsAction.REPORT, SummonsAction.RESOLVE)
# Actions done with one press (no input needed): the desk posts them; the others open the item's form.
ONE_PRESS = {Action.ACCEPT, SummonsAction.REPORT}
# Roles whose desk is their own appeals and wishes.
CITIZEN_ROLES = frozenset({Role.RESIDENT, Role.PARTY_MEMBER})


@dataclass
class Figure:
    key: str
    label: str
    count: int
    url: str
    alert: bool = False  # shown in red when not zero (overdue)


@dataclass
class Item:
    number: str
    title: str
    url: str
    state: str
    state_label: str
    due: object = None
    overdue: bool = False
    action: dict | None = None  # {"label", "post": url or "", "link": url or "", "version"}


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    items_title: str = ""
    empty: str = ""  # what to do when there is nothing
    empty_link: tuple[str, str] | None = None  # (label, url)
    more: tuple[str, str] | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url): where the work goes on


def _pick(allowed, order):
    return next((a for a in order if a in allowed), None)


def _appeal_item(actor, a, now, back: str, *, with_due: bool = True) -> Item:
    name = _pick(allowed_actions(actor, a), APPEAL_ACTION_ORDER)
    detail = reverse("appeals:detail", args=[a.number])
    action = None
    if name:
        action = {"name": name, "label": ACTION_LABELS[name], "version": a.version, "next": back,
                  "post": reverse("appeals:act", args=[a.number, name]) if name in ONE_PRESS else "",
                  "link": "" if name in ONE_PRESS else f"{detail}#act-{name}"}
    overdue = bool(a.state in OPEN_STATES and a.step_due and a.step_due < now)
    return Item(a.number, a.title, detail, a.state, a.get_state_display(), a.step_due if with_due else None,
                overdue and with_due, action)


def appeal_inbox_section(actor, now) -> Section:
    counts = appeal_selectors.inbox_counts(actor, now)
    inbox = reverse("appeals:inbox")
    labels = {"new": _("待受理"), "today": _("今日到期"), "overdue": _("已逾期"), "rate": _("待我评价")}
    figures = [Figure(k, labels[k], counts[k], f"{inbox}?show={k}", alert=k == "overdue")
               for k in (*appeal_selectors.INBOX_SHOWS, "rate")]
    rows = list(appeal_selectors.inbox_for(actor, now=now)[:ITEMS])  # due soonest first: overdue on top
    return Section("inbox", _("诉求待办"), figures, [_appeal_item(actor, a, now, "/") for a in rows],
                   items_title=_("最急的待办（最早到期的在前）"),
                   empty=_("暂无待办诉求。新的诉求提交后会出现在这里；也可以代录热线来电和走访中听到的诉求。"),
                   empty_link=(_("代录诉求"), reverse("appeals:entry")), more=(_("全部待办"), inbox))


def board_section(actor, now) -> Section:
    counts = appeal_selectors.board_counts(actor, now=now)
    board = reverse("appeals:board")
    labels = {"unassigned": _("未分派"), "awaiting_whistle": _("待吹哨"), "hotspots": _("热点预警")}
    return Section("board", _("调度台"), [Figure(k, labels[k], counts[k], board) for k in labels])


def work_order_section(actor, now) -> Section:
    counts = appeal_selectors.work_order_counts(actor, now)
    inbox = reverse("appeals:work_orders")
    labels = {"report": _("待报到"), "today": _("今日到期"), "overdue": _("已逾期")}
    figures = [Figure(k, labels[k], counts[k], f"{inbox}?show={k}", alert=k == "overdue")
               for k in appeal_selectors.WORK_ORDER_SHOWS]
    items = []
    for wo in appeal_selectors.work_order_inbox(actor, now=now)[:ITEMS]:
        name = _pick(allowed_work_order_actions(actor, wo), WORK_ORDER_ACTION_ORDER)
        url = reverse("appeals:work_order", args=[wo.pk])
        action = None
        if name:
            action = {"name": name, "label": SUMMONS_ACTION_LABELS[name], "version": wo.version, "next": "/",
                      "post": reverse("appeals:work_order_act", args=[wo.pk, name]) if name in ONE_PRESS else "",
                      "link": "" if name in ONE_PRESS else f"{url}#wo-act-{name}"}
        items.append(Item(wo.appeal.number, wo.appeal.title, url, wo.state, wo.get_state_display(), wo.step_due,
                          appeal_selectors.is_overdue_work_order(wo, now), action))
    return Section("work_orders", _("工单待办"), figures, items, items_title=_("最急的工单（最早到期的在前）"),
                   empty=_("暂无工单。街道吹哨召集本单位时，工单会出现在这里，并发通知提醒您报到。"),
                   more=(_("全部工单"), inbox))


def mine_section(actor, now) -> Section:
    counts = appeal_selectors.my_appeal_counts(actor)
    mine = reverse("appeals:mine")
    figures = [Figure("open", _("办理中"), counts["open"], f"{mine}?show=open"),
               Figure("rate", _("待我评价"), counts["rate"], f"{mine}?show=rate", alert=True)]
    rows = appeal_selectors.my_appeals(actor).filter(appeal_selectors.MINE_SHOWS["open"]
                                                     | appeal_selectors.MINE_SHOWS["rate"])[:ITEMS]
    # The staff's step deadlines are theirs to keep: a resident sees the status, not the clock.
    return Section("mine", _("我的诉求"), figures, [_appeal_item(actor, a, now, "/", with_due=False) for a in rows],
                   items_title=_("办理中和待评价的诉求"),
                   empty=_("您没有正在办理的诉求。看到身边的问题，点“反映诉求”在地图上标出位置、写几句话即可。"),
                   empty_link=(_("反映诉求"), reverse("appeals:new")), more=(_("全部诉求"), mine))


def wishes_section(actor) -> Section:
    from gongzhi.lists.models import Need, NeedState

    rows = list(Need.objects.filter(requester=actor).exclude(state__in=(NeedState.RATED, NeedState.WITHDRAWN))
                .order_by("-id")[:ITEMS])
    items = [Item(n.number, n.title, reverse("lists:need", args=[n.number]), n.state, n.get_state_display())
             for n in rows]
    return Section("wishes", _("我的心愿"), [], items, items_title=_("还没完成的心愿"),
                   empty=_("您没有进行中的心愿。生活上需要帮忙（如代购、陪诊、维修），可以发布一个心愿，由党员和志愿者认领。"),
                   empty_link=(_("发布心愿"), reverse("lists:need_new")),
                   more=(_("全部心愿"), reverse("lists:needs") + "?mine=1"))


def oversight_section(actor, now) -> Section:
    """District admins and auditors: the open and overdue appeals in their scope, and the audit trail."""
    q = Q(pk__in=[])
    for s in scopes.scopes_of(actor):
        if s.role in VIEW_ROLES and s.kind == "place":
            q |= scope_q(s)
    if getattr(actor, "is_superuser", False):
        q = Q()
    c = Appeal.objects.filter(q, state__in=OPEN_STATES).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(step_due__lt=now)))
    kpi = reverse("appeals:kpi")
    figures = [Figure("open", _("未办结诉求"), c["open"], kpi), Figure("overdue", _("已逾期"), c["overdue"], kpi,
                                                                   alert=True)]
    from gongzhi.web.context import allows

    links = [(label, url) for label, url, rule in (
        (_("绩效统计"), kpi, "kpi.view"), (_("审计日志"), reverse("audit"), "audit.view"),
        (_("三张清单"), reverse("lists:hub"), "lists.view"), (_("账号与角色"), "/accounts/users/", "accounts.manage"),
    ) if allows(actor, rule)]
    return Section("oversight", _("辖区概况"), figures, links=links)


def actions_section(actor, now) -> Section:
    """Resolutions' action items (督办事项) in the actor's care: open, and overdue in red (one query)."""
    from gongzhi.deliberation.models import ActionState
    from gongzhi.deliberation.services import actions_visible_to

    today = timezone.localtime(now).date()
    c = actions_visible_to(actor).filter(state=ActionState.OPEN).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    url = reverse("deliberation:actions")
    return Section("actions", _("督办事项"), [Figure("open", _("办理中"), c["open"], f"{url}?state=open"),
                                          Figure("overdue", _("已逾期"), c["overdue"], f"{url}?state=overdue",
                                                 alert=True)])


def _follows_actions(actor) -> bool:
    return any(scopes.can(actor, a) for a in ("deliberation.view", "deliberation.chair"))


def unread_figure(actor) -> Figure:
    from gongzhi.notifications.selectors import unread_count

    return Figure("unread", _("未读通知"), unread_count(actor), reverse("notifications:list") + "?unread=1")


def desk_for(actor, now=None) -> dict:
    """The desk of a signed-in user: sections in the order their work comes."""
    now = now or timezone.now()
    roles = scopes.roles_of(actor)
    sections = []
    if appeal_selectors.has_appeal_inbox(actor):
        sections.append(appeal_inbox_section(actor, now))
    if appeal_selectors.can_use_board(actor):
        sections.append(board_section(actor, now))
    if appeal_selectors.has_work_order_inbox(actor):
        sections.append(work_order_section(actor, now))
    citizen = not roles or roles <= CITIZEN_ROLES
    if roles & {Role.DISTRICT_ADMIN, Role.AUDITOR}:
        sections.append(oversight_section(actor, now))
    if _follows_actions(actor):
        sections.append(actions_section(actor, now))
    if citizen:
        sections += [mine_section(actor, now), wishes_section(actor)]
    return {"sections": sections, "unread": unread_figure(actor), "citizen": citizen,
            "read_only": scopes.read_only(actor)}
