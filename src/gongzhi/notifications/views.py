"""The notification page: my notifications, newest first; open one, mark it or all of them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    rows, next_before = selectors.page_of(selectors.notifications_for(request.user, unread_only=unread_only),
                                          before=request.GET.get("before"))
    return render(request, "notifications/list.html", {
        "rows": rows, "next_before": next_before, "unread_only": unread_only,
        "first_page": not request.GET.get("before"), "unread": selectors.unread_count(request.user)})


def notification_badge(request):
    """The nav's unread count, fetched by htmx after the page loads (and every minute), so no page
    pays a query for it. Empty for nobody signed in or nothing unread."""
    n = selectors.unread_count(request.user)
    if not n:
        return HttpResponse("")
    label = _("%(n)d 条未读通知") % {"n": n}
    return HttpResponse(format_html('<b class="badge" data-testid="unread-badge" title="{}" style="background:#fff;'
                                    'color:var(--red);border-radius:999px;padding:0 .45em;font-size:.8em">{}</b>',
                                    label, n if n < 100 else "99+"))


def _local_link(request, link: str) -> str | None:
    ok = link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()})
    return link if ok else None


@login_required
@require_POST
def notification_open(request, notification_id: int):
    """Mark it read and go where it points (a notification is read by opening it)."""
    n = services.notification_mark_read(actor=request.user, notification_id=notification_id)
    return redirect(_local_link(request, n.link) or reverse("notifications:list"))


@login_required
@require_POST
def notification_read(request, notification_id: int):
    services.notification_mark_read(actor=request.user, notification_id=notification_id)
    messages.success(request, _("已标为已读。"))
    return redirect(reverse("notifications:list"))


@login_required
@require_POST
def notification_read_all(request):
    n = services.notification_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
    return redirect(reverse("notifications:list"))
