"""Navigation by role: each entry shows only to users whose roles allow its action."""

from django.utils.translation import gettext_lazy as _

from gongzhi.core import scopes

# The header menu: top-level links (group None) and drop-down groups. Each entry is
# (label, url, action needed or None for every signed-in user); a user sees an entry when their roles
# allow its action, a group when it has any entry for them, and a group of one as a plain link.
NAV_GROUPS = [
    (None, [(_("首页"), "/", None), (_("网格地图"), "/map/", None)]),
    (_("诉求"), [
        (_("反映诉求"), "/appeals/new/", None),
        (_("我的诉求"), "/appeals/mine/", None),
        (_("公开诉求"), "/appeals/public/", None),
        (_("诉求待办"), "/appeals/inbox/", "appeal.handle"),
        (_("调度台"), "/appeals/board/", "appeal.dispatch"),
        (_("代录诉求"), "/appeals/entry/", "appeal.handle"),
        (_("工单待办"), "/appeals/workorders/", "workorder.handle"),
        (_("绩效统计"), "/appeals/kpi/", "kpi.view"),
    ]),
    (_("清单"), [
        (_("心愿墙"), "/wishes/", None),
        (_("提需求"), "/lists/needs/new/", None),
        (_("三张清单"), "/lists/", "lists.view"),
        (_("派单台"), "/lists/board/", "lists.dispatch"),
        (_("我的接单"), "/lists/orders/", "lists.take"),
    ]),
    (_("志愿"), [
        (_("志愿活动"), "/volunteering/activities/", None),
        (_("志愿队伍"), "/volunteering/teams/", None),
        (_("双报到"), "/volunteering/reports/", None),
        (_("时间银行"), "/timebank/", None),
    ]),
    (_("管理"), [
        (_("组织"), "/org/", "registry.view"),
        (_("成员单位"), "/org/units/", "registry.view"),
        (_("人员"), "/org/people/", "registry.view"),
        (_("职务"), "/org/posts/", "registry.view"),
        (_("网格导入导出"), "/places/grids/import/", "grid.import"),
        (_("审计日志"), "/audit/", "audit.view"),
        (_("账号与角色"), "/accounts/users/", "accounts.manage"),
    ]),
    (None, [(_("通知"), "/notifications/", None), (_("API 令牌"), "/accounts/tokens/", None)]),
]
# Every entry in one list (the home page's tiles, and tests that walk the menu).
NAV = [entry for _group, entries in NAV_GROUPS for entry in entries]
PUBLIC_URLS = ("/", "/map/", "/wishes/", "/appeals/public/")


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        def shown(url, action):
            return url in PUBLIC_URLS
    else:
        def shown(url, action):
            return action is None or scopes.can(user, action)
    groups, flat = [], []
    for label, entries in NAV_GROUPS:
        items = [(item_label, url) for item_label, url, action in entries if shown(url, action)]
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
