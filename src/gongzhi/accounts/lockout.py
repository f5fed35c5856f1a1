"""Password-guessing defence: the hooks django-axes calls (whose name and address a failure counts
against, and the page a locked-out attempt gets), and the lockouts as staff see and lift them.

Axes counts failures per account name and per client address (settings.AXES_LOCKOUT_PARAMETERS);
either reaching settings.LOGIN_FAILURE_LIMIT within the cool-off period locks. The answer is the
same whether or not the account exists, so a lockout says nothing about which names are real.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _


def username_of(request, credentials) -> str | None:
    """The account name a failure counts against: trimmed and lower-cased (usernames are lower
    case), so `Admin` and ` admin` are not fresh names with fresh counts."""
    name = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if name is None and request is not None:
        name = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if name is None:
        return None
    return str(name).replace("\x00", "").strip().lower()[:150]


def client_ip(request) -> str | None:
    """The client's address. Behind GONGZHI_TRUSTED_PROXY_COUNT proxies it is the entry the
    outermost trusted proxy appended to X-Forwarded-For (counted from the right: entries to the
    left of it were written by the client and prove nothing); with no proxy configured the
    header is ignored and the socket's address is used."""
    addr = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            addr = hops[-count]
    try:
        return str(ipaddress.ip_address(addr)) if addr else None
    except ValueError:
        return None


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    return _("登录失败次数过多，该账号或本机地址已暂时锁定。请 %(m)s 分钟后再试，或请区级管理员解锁。") % {
        "m": settings.LOGIN_COOLOFF_MINUTES}


def lockout_response(request, original_response=None, credentials=None):
    """Our login page with the lockout message, 429 and Retry-After (axes' AXES_LOCKOUT_CALLABLE)."""
    resp = render(request, "accounts/login.html", {
        "locked_message": lockout_message(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }, status=429)
    resp["Retry-After"] = str(cooloff_seconds())
    resp["Cache-Control"] = "no-store"
    return resp


# ---- lockouts as staff see them ----

@dataclass(frozen=True)
class Lockout:
    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    last_failure: object  # aware datetime
    until: object  # aware datetime: when it lifts by itself


def _locked(field: str) -> list[Lockout]:
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(attempt_time__gte=since).exclude(**{f"{field}__isnull": True})
            .values(field).annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT).order_by("-last"))
    return [Lockout(field, r[field], r["failures"], r["last"], r["last"] + settings.AXES_COOLOFF_TIME) for r in rows]


def locked_usernames() -> list[Lockout]:
    return _locked("username")


def locked_addresses() -> list[Lockout]:
    return _locked("ip_address")
