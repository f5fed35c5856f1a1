"""The comment form on an appeal's page (comments.py holds the rule)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import GongzhiError

from . import comments, selectors


@login_required
@require_POST
def appeal_comment(request, number: str):
    from .views import _detail_context
    from .views_board import detail_panels

    text = request.POST.get("text", "")
    try:
        comments.appeal_comment(actor=request.user, appeal=number, text=text,
                                photos=request.FILES.getlist("photos"))
    except GongzhiError as exc:
        appeal = selectors.appeal_get_for(request.user, number)
        ctx = {**_detail_context(request, appeal), **detail_panels(request, appeal),
               "comment_error": exc.message, "comment_text": text}
        return render(request, "appeals/detail.html", ctx, status=exc.status)
    messages.success(request, _("已补充说明。"))
    return redirect(reverse("appeals:detail", args=[number]) + "#timeline")
