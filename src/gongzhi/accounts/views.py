"""Account pages: users and their roles (for administrators), and everyone's own API tokens.
Thin: parse, call a selector or service, render. A refused write re-shows its page with the
service's message and changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.core.exports import Column, xlsx_response

from . import forms, selectors, services
from .models import Role

MANAGE = services.MANAGE
ROLE_LABELS = dict(Role.choices)


def _params(**values) -> str:
    return urlencode({k: v for k, v in values.items() if v})


def _no_store(resp):
    # Pages that may carry a token key or a password form stay out of caches and history.
    resp["Cache-Control"] = "no-store"
    return resp


# ---- users ----

@login_required
def users(request):
    scopes.require(request.user, MANAGE)
    q = request.GET.get("q", "").strip()
    try:
        after = int(request.GET.get("after") or 0) or None
    except ValueError:
        after = None
    page, next_after = selectors.keyset_page(selectors.users_visible_to(request.user, q=q), after=after, limit=50)
    rows = [(u, *selectors.roles_split(request.user, u)) for u in page]
    return render(request, "accounts/users.html", {
        "rows": rows, "q": q, "after": after, "params": _params(q=q),
        "next_params": _params(q=q, after=next_after) if next_after else "",
        "first_params": _params(q=q),
    })


def _roles_text(actor, user) -> str:
    inside, outside = selectors.roles_split(actor, user)
    parts = [f"{ROLE_LABELS.get(ra.role, ra.role)}@{ra.scope_label()}" for ra in inside]
    if outside:
        parts.append(_("另有 %(n)s 个范围外角色") % {"n": outside})
    return "；".join(parts)


@login_required
def users_export(request):
    """The account ledger (台账): the same rows as the list, every page of them."""
    scopes.require(request.user, MANAGE)
    actor = request.user
    qs = selectors.users_visible_to(actor, q=request.GET.get("q", "").strip())
    columns = [
        Column(_("用户名"), lambda u: u.username, 18),
        Column(_("姓名"), lambda u: u.first_name, 14),
        Column(_("角色（范围）"), lambda u: _roles_text(actor, u), 48),
        Column(_("状态"), lambda u: _("启用") if u.is_active else _("停用"), 8),
        Column(_("最后登录"), lambda u: timezone.localtime(u.last_login).strftime("%Y-%m-%d %H:%M")
               if u.last_login else "", 18),
    ]
    return xlsx_response(_("账号台账"), columns, qs.iterator(chunk_size=1000))


@login_required
def user_create(request):
    scopes.require(request.user, MANAGE)
    template = "accounts/user_form.html"
    if request.method != "POST":
        return _no_store(render(request, template, {"form": forms.UserCreateForm(user=request.user)}))
    form = forms.UserCreateForm(request.POST, user=request.user)
    if not form.is_valid():
        return _no_store(render(request, template, {"form": form},
                                status=400))
    d = form.cleaned_data
    node = d.get("node")
    scope = services.scope_fields(node) if node is not None else {}
    try:
        user = services.user_create(actor=request.user, username=d["username"], full_name=d["full_name"],
                                    password=d["password"], person=d["person_id"], role=d["role"] or None, **scope)
    except GongzhiError as exc:
        form.add_error(None, str(exc.message))
        return _no_store(render(request, template, {"form": form},
                                status=exc.status))
    messages.success(request, _("已创建账号 %(u)s。") % {"u": user.username})
    return redirect("accounts:user", pk=user.pk)


def _user_page(request, user, *, grant_form=None, error: GongzhiError | None = None, status=200):
    roles, outside = selectors.roles_split(request.user, user)
    return render(request, "accounts/user_detail.html", {
        "subject": user,
        "person": getattr(user, "person", None),
        "roles": roles,
        "outside": outside,
        "grant_form": grant_form or forms.GrantRoleForm(),
        "tokens": selectors.tokens_of(user).filter(revoked_at__isnull=True),
        "error": error.message if error is not None else "",
        "is_self": user.pk == request.user.pk,
    }, status=error.status if error is not None else status)


@login_required
def user_detail(request, pk: int):
    scopes.require(request.user, MANAGE)
    return _user_page(request, selectors.user_get_for(request.user, pk))


@login_required
@require_POST
def role_grant(request, pk: int):
    scopes.require(request.user, MANAGE)
    user = selectors.user_get_for(request.user, pk)
    form = forms.GrantRoleForm(request.POST)
    if not form.is_valid():
        return _user_page(request, user, grant_form=form, status=400)
    d = form.cleaned_data
    try:
        ra = services.role_assign(actor=request.user, user=user, role=d["role"], **services.scope_fields(d["node"]))
    except GongzhiError as exc:
        form.add_error(None, str(exc.message))
        return _user_page(request, user, grant_form=form, status=exc.status)
    messages.success(request, _("已授予 %(u)s「%(role)s」角色，范围：%(scope)s。") % {
        "u": user.username, "role": ROLE_LABELS[ra.role], "scope": ra.scope_label()})
    return redirect("accounts:user", pk=user.pk)


@login_required
@require_POST
def role_revoke(request, pk: int):
    scopes.require(request.user, MANAGE)
    ra = selectors.assignment_get_for(request.user, pk)
    user = selectors.user_get_for(request.user, ra.user_id)
    try:
        services.role_revoke(actor=request.user, assignment=ra)
    except GongzhiError as exc:
        return _user_page(request, user, error=exc)
    messages.success(request, _("已撤销 %(u)s 在「%(scope)s」的「%(role)s」角色。") % {
        "u": user.username, "role": ROLE_LABELS.get(ra.role, ra.role), "scope": ra.scope_label()})
    # The revoked role may have been the only thing that put the account in the actor's scope.
    if selectors.users_visible_to(request.user).filter(pk=user.pk).exists():
        return redirect("accounts:user", pk=user.pk)
    return redirect("accounts:users")


@login_required
@require_POST
def user_set_active(request, pk: int):
    scopes.require(request.user, MANAGE)
    user = selectors.user_get_for(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=user, active=active)
    except GongzhiError as exc:
        return _user_page(request, user, error=exc)
    if active:
        messages.success(request, _("已启用账号 %(u)s。") % {"u": user.username})
    else:
        messages.success(request, _("已停用账号 %(u)s，其 API 令牌已全部撤销。") % {"u": user.username})
    return redirect("accounts:user", pk=user.pk)


# ---- sign-in lockouts ----

@login_required
def lockouts(request):
    """Accounts and addresses locked out for failed sign-ins, each with an unlock button."""
    scopes.require(request.user, MANAGE)
    error, status = "", 200
    if request.method == "POST":
        kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
        try:
            services.lockout_release(actor=request.user, kind=kind, value=value)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已解锁 %(v)s，可以重新登录。") % {"v": value.strip()})
            return redirect("accounts:lockouts")
    return render(request, "accounts/lockouts.html", {
        **selectors.lockouts_visible_to(request.user), "error": error,
        "limit": settings.LOGIN_FAILURE_LIMIT, "minutes": settings.LOGIN_COOLOFF_MINUTES,
    }, status=status)


# ---- API tokens ----

def _tokens_page(request, *, form=None, new_key="", status=200):
    return _no_store(render(request, "accounts/tokens.html", {
        "tokens": selectors.tokens_of(request.user),
        "form": form or forms.TokenForm(),
        "new_key": new_key,
    }, status=status))


@login_required
def tokens(request):
    if request.method != "POST":
        return _tokens_page(request)
    form = forms.TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form=form, status=400)
    try:
        key = services.token_create(actor=request.user, user=request.user, name=form.cleaned_data["name"])
    except GongzhiError as exc:
        form.add_error(None, str(exc.message))
        resp = _tokens_page(request, form=form, status=exc.status)
        if "retry_after" in exc.extra:
            resp["Retry-After"] = str(exc.extra["retry_after"])
        return resp
    # Rendered, not redirected: the key exists only in this one response.
    return _tokens_page(request, new_key=key)


@login_required
@require_POST
def token_revoke(request, pk: int):
    tok = selectors.token_get_for(request.user, pk)
    services.token_revoke(actor=request.user, token=tok)
    messages.success(request, _("已撤销令牌 %(p)s…。") % {"p": tok.prefix})
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return redirect(nxt)
    return redirect(reverse("accounts:tokens"))
