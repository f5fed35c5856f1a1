"""A page the menu does not offer a user is refused to that user too.

The menu (web.context.NAV_GROUPS) asks each entry's rule whether the user may open the page. Before
this gate the pages made their own, looser checks, so a read-only auditor could open a submit
form by typing its address and a resident the API tokens page. One rule now decides both: the
entry's. Only the menu's own addresses are gated; the pages behind them (details, actions) keep
their own checks in the services.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _

from .context import NAV, allows

RULES = {url: (label, rule) for label, url, rule in NAV if rule is not None}


class MenuGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        label, rule = RULES.get(request.path, (None, None))
        user = getattr(request, "user", None)
        # Signed-out visitors are left to the page, which sends them to the login form.
        if rule is None or user is None or not user.is_authenticated or allows(user, rule):
            return None
        return render(request, "web/error.html", {
            "title": _("没有权限"),
            "message": _("你的角色不使用「%(page)s」，菜单中列出的是你可以使用的页面。") % {"page": label}}, status=403)
