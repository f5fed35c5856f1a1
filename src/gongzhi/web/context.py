"""Navigation by role: each entry shows only to users who may open it, by the checks its page makes."""

from django.utils.translation import gettext_lazy as _

from gongzhi.core import scopes


# Who may open a page, asked with the same checks the pages make (core.scopes and the selectors'
# `has_*` helpers). An entry's rule is an action of core.scopes.ROLE_ACTIONS, None for every
# signed-in user, or one of these named checks.
def _may_submit(user) -> bool:
    """Submit forms are for everyone but the read-only roles (the auditor)."""
    return not scopes.read_only(user)


def _appeal_inbox(user) -> bool:
    from gongzhi.appeals.selectors import has_appeal_inbox

    return has_appeal_inbox(user)


def _board(user) -> bool:
    from gongzhi.appeals.selectors import can_use_board

    return can_use_board(user)


def _work_orders(user) -> bool:
    from gongzhi.appeals.selectors import has_work_order_inbox

    return has_work_order_inbox(user)


def _lists_hub(user) -> bool:
    """The lists' hub: staff who read the lists, and unit liaisons, whose unit's annual record it links."""
    if scopes.can(user, "lists.view"):
        return True
    from gongzhi.lists.permissions import liaison_org_paths

    return bool(liaison_org_paths(user))


def _staff(user) -> bool:
    """API tokens serve integrations run by staff: not offered to residents and party members."""
    from gongzhi.web.desk import CITIZEN_ROLES

    return user.is_superuser or bool(scopes.roles_of(user) - CITIZEN_ROLES)


def _dual_reporting(user) -> bool:
    """双报到: party members and member units report; the staff who keep the register read it."""
    from gongzhi.accounts.models import Role

    return (user.is_superuser or bool(scopes.roles_of(user) & {Role.PARTY_MEMBER, Role.UNIT_LIAISON})
            or scopes.can(user, "volunteer.view"))


def _people(user) -> bool:
    """The people register, unless it is empty for the user: a department's or a unit's scope reaches
    only the party members whose home organisation it is, often nobody (one EXISTS for them only)."""
    if not scopes.can(user, "registry.view"):
        return False
    if user.is_superuser or any(s.kind != "org" for s in scopes._scopes_for(user, "registry.view")):
        return True
    from gongzhi.org.selectors import people_visible_to

    return people_visible_to(user).exists()


def _deliberation_roster(user) -> bool:
    """Managers and viewers of meetings, and member units' liaisons (their months, swaps)."""
    return scopes.can(user, "deliberation.view") or scopes.can(user, "deliberation.chair")


CHECKS = {"submit": _may_submit, "deliberation_roster": _deliberation_roster, "appeal_inbox": _appeal_inbox, "board": _board, "work_orders": _work_orders,
          "staff": _staff, "lists_hub": _lists_hub, "dual_reporting": _dual_reporting, "people": _people}

# The header menu: top-level links (group None) and drop-down groups. Each entry is
# (label, url, rule); a user sees an entry when the rule lets them open it, a group when it has any
# entry for them, and a group of one as a plain link.
NAV_GROUPS = [
    (None, [(_("首页"), "/", None), (_("网格地图"), "/map/", None)]),
    (_("诉求"), [
        (_("反映诉求"), "/appeals/new/", "submit"),
        (_("我的诉求"), "/appeals/mine/", "submit"),
        (_("公开诉求"), "/appeals/public/", None),
        (_("诉求待办"), "/appeals/inbox/", "appeal_inbox"),
        (_("调度台"), "/appeals/board/", "board"),
        (_("代录诉求"), "/appeals/entry/", "appeal.handle"),
        (_("工单待办"), "/appeals/workorders/", "work_orders"),
        (_("绩效统计"), "/appeals/kpi/", "kpi.view"),
    ]),
    (_("清单"), [
        (_("心愿墙"), "/wishes/", None),
        (_("提需求"), "/lists/needs/new/", "submit"),
        (_("三张清单"), "/lists/", "lists_hub"),
        (_("派单台"), "/lists/board/", "lists.dispatch"),
        (_("我的接单"), "/lists/orders/", "lists.take"),
    ]),
    (_("志愿"), [
        (_("志愿活动"), "/volunteering/activities/", None),
        (_("志愿队伍"), "/volunteering/teams/", None),
        (_("双报到"), "/volunteering/reports/", "dual_reporting"),
        (_("时间银行"), "/timebank/", None),
    ]),
    (_("议事"), [
        (_("会议与议事"), "/deliberation/meetings/", None),
        (_("会议签到"), "/deliberation/sign-in/", None),
        (_("议题表决"), "/deliberation/proposals/", None),
        (_("督办事项"), "/deliberation/actions/", None),
        (_("轮值主席"), "/deliberation/", "deliberation_roster"),
        (_("业主名册"), "/deliberation/register/", "deliberation.view"),
        (_("订阅日历"), "/deliberation/calendar/", None),
    ]),
    (_("管理"), [
        (_("组织"), "/org/", "registry.view"),
        (_("成员单位"), "/org/units/", "registry.view"),
        (_("人员"), "/org/people/", "people"),
        (_("职务"), "/org/posts/", "registry.view"),
        (_("地标"), "/places/landmarks/", "registry.view"),
        (_("网格导入导出"), "/places/grids/import/", "grid.import"),
        (_("审计日志"), "/audit/", "audit.view"),
        (_("账号与角色"), "/accounts/users/", "accounts.manage"),
    ]),
    (None, [(_("通知"), "/notifications/", None), (_("API 令牌"), "/accounts/tokens/", "staff")]),
]
# Every entry in one list (tests walk the menu).
NAV = [entry for _group, entries in NAV_GROUPS for entry in entries]
PUBLIC_URLS = ("/", "/map/", "/wishes/", "/appeals/public/")


def allows(user, rule) -> bool:
    """Whether a signed-in user may open a menu entry with this rule."""
    if rule is None:
        return True
    if rule in CHECKS:
        return CHECKS[rule](user)
    return scopes.can(user, rule)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        def shown(url, rule):
            return url in PUBLIC_URLS
    else:
        def shown(url, rule):
            return allows(user, rule)
    groups, flat = [], []
    for label, entries in NAV_GROUPS:
        items = [(item_label, url) for item_label, url, rule in entries if shown(url, rule)]
        flat += items
        if not items:
            continue
        if label is None or len(items) == 1:
            groups += [{"label": None, "items": [item]} for item in items]
        else:
            groups.append({"label": label, "items": items, "on": any(url == request.path for _l, url in items)})
    out = {"nav": flat, "nav_groups": groups}
    if user is not None and user.is_authenticated:
        out["my_roles"] = sorted({str(dict(_role_labels()).get(r, r)) for r in scopes.roles_of(user)})
    return out


def _role_labels():
    from gongzhi.accounts.models import Role

    return Role.choices
