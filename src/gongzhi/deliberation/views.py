"""Deliberation pages: the committees I follow, and a committee's rotating-chair roster for a year
(generate, publish, Excel; a liaison asks for and answers swaps of months).

Thin: parse, call a service or selector, render. Refusals come back as a message on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError

from . import exports, selectors, services


def _run(request, fn, ok_message):
    try:
        result = fn()
    except GongzhiError as exc:
        messages.error(request, str(exc.message))
        return None
    if ok_message:
        messages.success(request, ok_message(result) if callable(ok_message) else ok_message)
    return result


@login_required
def committee_list(request):
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.committees_visible_to(request.user, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "deliberation/committees.html", {"page": page, "q": q,
                                                             "year": timezone.localdate().year})


@login_required
def roster(request, committee_id: int, year: int):
    try:
        view = selectors.roster_of(request.user, committee_id, year)
    except GongzhiError as exc:
        return render(request, "deliberation/refused.html", {"message": exc.message}, status=exc.status)
    if request.GET.get("format") == "xlsx":
        return exports.roster_xlsx(view)
    manage = scopes.can(request.user, services.MANAGE, view.committee)
    mine = [r for r in view.months if r.mine and r.term and not r.published]
    others = [r for r in view.months if r.term and not r.mine and not r.published]
    return render(request, "deliberation/roster.html", {
        "view": view, "manage": manage, "mine": mine, "others": others,
        "answerable": [s for s in view.swaps if services.is_liaison_of(request.user, s.unit_b)
                       and not request.user.is_superuser],
        "withdrawable": {s.pk for s in view.swaps if services.is_liaison_of(request.user, s.unit_a)},
        "years": [year - 1, year + 1], "unpublished": [r for r in view.months if r.term and not r.published],
    })


def _back(committee_id, year):
    return redirect(reverse("deliberation:roster", args=[committee_id, year]))


@login_required
@require_POST
def roster_generate(request, committee_id: int, year: int):
    def go():
        return services.roster_generate(actor=request.user, committee=services.committee_of(committee_id), year=year)

    _run(request, go, lambda r: _("轮值表已生成：%(c)s 个月有变动，%(g)s 个月无可轮值单位。") % {
        "c": len(r.changed), "g": len(r.gaps)})
    return _back(committee_id, year)


@login_required
@require_POST
def roster_publish(request, committee_id: int, year: int):
    through = request.POST.get("through") or None

    def go():
        return services.roster_publish(actor=request.user, committee=services.committee_of(committee_id), year=year,
                                       through=through)

    _run(request, go, lambda n: _("已发布 %(n)s 个月，发布后不再变动。") % {"n": n})
    return _back(committee_id, year)


@login_required
@require_POST
def swap_request(request, committee_id: int, year: int):
    _run(request, lambda: services.swap_request(
        actor=request.user, term_id=request.POST.get("term"), other_term_id=request.POST.get("other"),
        reason=request.POST.get("reason", "")), _("调换申请已发出，等待对方单位联络员同意。"))
    return _back(committee_id, year)


@login_required
@require_POST
def swap_act(request, committee_id: int, year: int, swap_id: int, action: str):
    if action == "withdraw":
        _run(request, lambda: services.swap_withdraw(actor=request.user, swap_id=swap_id), _("调换申请已撤回。"))
    elif action in ("accept", "decline"):
        accept = action == "accept"
        _run(request, lambda: services.swap_decide(actor=request.user, swap_id=swap_id, accept=accept),
             _("已同意调换，两个月份的轮值单位已互换。") if accept else _("已婉拒调换申请。"))
    else:
        messages.error(request, _("不支持的操作。"))
    return _back(committee_id, year)
