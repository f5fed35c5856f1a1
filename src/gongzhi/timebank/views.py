"""Time bank pages: my hours and time credits (/timebank/), and for staff the accounts in scope, one
account's statement with reversals, manual credits and family links, and the ledger check.

Thin: parse, call a service or selector, render. Refusals re-render the form with the message.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError

from . import present, selectors, services
from .models import CreditRequest

PAGE_SIZE = 20


def _statement_context(request, acc):
    date_from, date_to = request.GET.get("date_from", ""), request.GET.get("date_to", "")
    error = None
    try:
        entries = selectors.statement(acc, date_from=date_from, date_to=date_to)
    except GongzhiError as exc:
        error, entries = exc.message, selectors.statement(None)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    params = urlencode({k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v})
    return {"page": page, "lines": present.rows(page.object_list), "date_from": date_from, "date_to": date_to,
            "params": params, "filter_error": error}


def _home(request, *, status=200, error=None, form=None, posted=None):
    person = services.person_of(request.user)
    staff = scopes.can(request.user, "timebank.view")
    if person is None:
        return render(request, "timebank/home.html", {"no_person": True, "staff": staff}, status=status)
    acc = selectors.account_or_none(person)
    ctx = {
        "person": person,
        "staff": staff,
        "balance": services.balance(person),
        "earned": selectors.hours_earned(person),
        "family": services.family_of(person),
        "error": error, "error_form": form, "posted": posted or {},
        **_statement_context(request, acc),
    }
    return render(request, "timebank/home.html", ctx, status=status)


@login_required
def home(request):
    return _home(request)


@login_required
def my_statement_xlsx(request):
    person = services.person_of(request.user)
    if person is None:
        return _home(request, status=404)
    acc = selectors.account_or_none(person)
    entries = selectors.statement(acc, date_from=request.GET.get("date_from"), date_to=request.GET.get("date_to"))
    return present.statement_xlsx(person, entries)


@login_required
@require_POST
def transfer(request):
    person = services.person_of(request.user)
    if person is None:
        return _home(request, status=404)
    try:
        txn = services.transfer(actor=request.user, from_person=person, to_person=request.POST.get("to_person"),
                                hours=request.POST.get("hours"), memo=request.POST.get("memo", ""))
    except GongzhiError as exc:
        return _home(request, status=exc.status, error=exc.message, form="transfer", posted=request.POST)
    messages.success(request, _("已转赠 %(h)s 时间币。") % {"h": txn.hours})
    return redirect("timebank:home")


@login_required
@require_POST
def spend(request):
    person = services.person_of(request.user)
    if person is None:
        return _home(request, status=404)
    try:
        txn = services.spend_by_phone(actor=request.user, payer_person=person,
                                      provider_phone=request.POST.get("provider_phone", ""),
                                      hours=request.POST.get("hours"), memo=request.POST.get("memo", ""))
    except GongzhiError as exc:
        return _home(request, status=exc.status, error=exc.message, form="spend", posted=request.POST)
    messages.success(request, _("已支付 %(h)s 时间币。") % {"h": txn.hours})
    return redirect("timebank:home")


# ---- staff ----

@login_required
def accounts(request):
    scopes.require(request.user, "timebank.view")
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.accounts_in_scope(request.user, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "timebank/accounts.html", {"page": page, "q": q})


def _account_page(request, pk, *, status=200, error=None, form=None, posted=None):
    acc = selectors.account_for_staff(request.user, pk)
    can_manage = scopes.can(request.user, "timebank.manage", acc)
    ctx = {"acc": acc, "can_manage": can_manage, "links": services.family_links(acc.person),
           "second_approval": services.second_approval_hours(),
           "error": error, "error_form": form, "posted": posted or {}, **_statement_context(request, acc)}
    return render(request, "timebank/account.html", ctx, status=status)


@login_required
def account(request, pk: int):
    return _account_page(request, pk)


@login_required
def account_xlsx(request, pk: int):
    acc = selectors.account_for_staff(request.user, pk)
    entries = selectors.statement(acc, date_from=request.GET.get("date_from"), date_to=request.GET.get("date_to"))
    return present.statement_xlsx(acc.person, entries)


def _staff_post(request, pk, form, do, done):
    acc = selectors.account_for_staff(request.user, pk)
    try:
        result = do(acc)
    except GongzhiError as exc:
        return _account_page(request, pk, status=exc.status, error=exc.message, form=form, posted=request.POST)
    messages.success(request, done(result))
    return redirect("timebank:account", pk=acc.pk)


@login_required
@require_POST
def account_reverse(request, pk: int, txn_id: int):
    return _staff_post(request, pk, f"reverse-{txn_id}",
                       lambda acc: services.reverse(actor=request.user, transaction=txn_id,
                                                    reason=request.POST.get("reason", "")),
                       lambda t: _("已冲正第 %(n)s 笔交易。") % {"n": t.reverses_id})


def _credit_done(out) -> str:
    if isinstance(out, CreditRequest):
        return _("%(h)s 时间币超过单次直接入账上限，已提交，待另一位工作人员复核后入账。") % {"h": out.hours}
    return _("已入账 %(h)s 时间币。") % {"h": out.hours}


@login_required
@require_POST
def account_credit(request, pk: int):
    return _staff_post(request, pk, "credit",
                       lambda acc: services.manual_credit(actor=request.user, person=acc.person,
                                                          hours=request.POST.get("hours"),
                                                          reason=request.POST.get("reason", "")),
                       _credit_done)


def _requests_page(request, *, status=200, error=None, error_id=None):
    scopes.require(request.user, "timebank.view")
    show = request.GET.get("state", "pending")
    qs = selectors.credit_requests_in_scope(request.user, state="" if show == "all" else show)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(r, services.may_decide_credit(request.user, r)) for r in page.object_list]
    return render(request, "timebank/requests.html", {"page": page, "rows": rows, "show": show, "error": error,
                                                      "error_id": error_id}, status=status)


@login_required
def credit_requests(request):
    return _requests_page(request)


def _decide_post(request, pk, do, done):
    selectors.credit_request_get_for(request.user, pk)
    try:
        req = do()
    except GongzhiError as exc:
        return _requests_page(request, status=exc.status, error=exc.message, error_id=int(pk))
    messages.success(request, done(req))
    return redirect("timebank:requests")


@login_required
@require_POST
def credit_request_approve(request, pk: int):
    return _decide_post(request, pk, lambda: services.approve_credit(actor=request.user, request=pk),
                        lambda r: _("已复核，%(h)s 时间币已入账。") % {"h": r.hours})


@login_required
@require_POST
def credit_request_decline(request, pk: int):
    return _decide_post(request, pk, lambda: services.decline_credit(actor=request.user, request=pk,
                                                                     reason=request.POST.get("reason", "")),
                        lambda r: _("已驳回该入账申请。"))


@login_required
@require_POST
def account_family(request, pk: int):
    def do(acc):
        relative = services.person_by_phone(request.POST.get("relative_phone", ""))
        return services.link_family(actor=request.user, person=acc.person, relative=relative,
                                    relation=request.POST.get("relation", ""))

    return _staff_post(request, pk, "family", do, lambda link: _("已登记家庭成员。"))


@login_required
@require_POST
def account_unlink(request, pk: int, link_id: int):
    return _staff_post(request, pk, "family",
                       lambda acc: services.unlink_family(actor=request.user, link=link_id),
                       lambda _r: _("已删除家庭成员登记。"))


@login_required
def ledger(request):
    scopes.require(request.user, "timebank.view")
    check = selectors.ledger_check(None if request.user.is_superuser else request.user)
    return render(request, "timebank/ledger.html", {"check": check})
