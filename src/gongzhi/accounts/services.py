"""Accounts: users, role assignments and API tokens. Every write checks its scope and is audited.

Passwords and token keys never reach the audit trail: a user entry records who and what changed,
a token entry records only the token's public prefix.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, scopes
from gongzhi.core.errors import Conflict, GongzhiError, NotFound, PermissionDenied, ValidationFailed

from .models import ApiToken, Role, RoleAssignment

MANAGE = "accounts.manage"
USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,30}$")
# Roles that read or run a whole scope: granting one above the grantor's own scope would let an
# administrator raise someone (or themselves, through a second account) over their own head.
HIGH_ROLES = {Role.DISTRICT_ADMIN, Role.AUDITOR}
SCOPE_KINDS = ("place", "grid", "organization")


def _forget_scopes(user) -> None:
    """Drop the per-object scope cache so the next permission check sees the new roles."""
    user.__dict__.pop("_gz_scopes", None)


def _is_system(actor) -> bool:
    """The command line and the seeder act with actor=None; a superuser is staff with every scope."""
    return actor is None or getattr(actor, "is_superuser", False)


# ---- input checks shared by the pages and the API ----

def validate_username(username: str) -> str:
    value = (username or "").strip()
    if not USERNAME_RE.match(value):
        raise ValidationFailed(
            "bad_username",
            _("用户名须为 3–30 个字符，只能使用小写字母、数字和 _ . -：%(u)s") % {"u": value or "（空）"},
        )
    return value


def validate_full_name(full_name: str) -> str:
    value = (full_name or "").strip()
    if not value or len(value) > 150:
        raise ValidationFailed("bad_full_name", _("姓名不能为空，且不超过 150 个字。"))
    return value


def validate_new_password(password: str, *, username: str = "", full_name: str = "") -> None:
    """Django's configured validators, their messages joined into one line in the user's language."""
    probe = get_user_model()(username=username, first_name=full_name)
    try:
        password_validation.validate_password(password or "", user=probe)
    except DjangoValidationError as exc:
        raise ValidationFailed("bad_password", " ".join(str(m) for m in exc.messages)) from None


def validate_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationFailed("bad_role", _("未知的角色：%(r)s") % {"r": role})
    return role


def scope_node(kind: str, code) -> object:
    """The scope node named on a form or in the API: a place by division code, a grid by grid code,
    an organisation by id. Unknown → a clear 400; whether it is inside the actor's scope is the
    service's question (with its own message)."""
    from gongzhi.org.models import Organization
    from gongzhi.places.models import Grid, Place

    code = str(code if code is not None else "").strip()
    if kind not in SCOPE_KINDS:
        raise ValidationFailed("bad_scope_kind", _("范围类型只能是 地点、网格 或 组织：%(k)s") % {"k": kind})
    if not code:
        raise ValidationFailed("scope_required", _("请填写角色范围的编码。"))
    if kind == "place":
        node = Place.objects.filter(code=code).first()
        if node is None:
            raise ValidationFailed("no_place", _("区划代码 %(code)s 不存在。") % {"code": code})
    elif kind == "grid":
        node = Grid.objects.filter(code=code, retired_at__isnull=True).first()
        if node is None:
            raise ValidationFailed("no_grid", _("网格编码 %(code)s 不存在。") % {"code": code})
    else:
        node = Organization.objects.filter(pk=int(code)).first() if code.isdigit() else None
        if node is None:
            raise ValidationFailed("no_organization", _("组织编号 %(code)s 不存在。") % {"code": code})
    return node


def scope_fields(node) -> dict:
    """The RoleAssignment column a scope node goes in, as keyword arguments ({"grid": g} …)."""
    field = {"places.place": "place", "places.grid": "grid", "org.organization": "organization"}.get(
        node._meta.label_lower if node is not None else "")
    if field is None:
        raise ValidationFailed("one_scope", _("角色必须且只能有一个范围：地点、网格或组织。"))
    return {field: node}


def grantable(actor, model):
    """The places, grids or organisations the actor may grant roles on (the role form's picker scope):
    those inside the actor's own accounts.manage scope, the rule `_require_grant` checks on each grant."""
    qs = model.objects.all()
    if model._meta.label_lower == "places.grid":
        qs = qs.filter(retired_at__isnull=True)
    return qs if _is_system(actor) else scopes.restrict(qs, actor, MANAGE)


def _scope_code(node) -> str:
    return str(node.pk) if node._meta.label_lower == "org.organization" else node.code


def _require_grant(actor, role: str, node) -> None:
    """The actor may grant or revoke `role` on `node` only inside their own accounts.manage scope."""
    if _is_system(actor):
        return
    scopes.require(actor, MANAGE)
    if scopes.can(actor, MANAGE, node):
        return
    args = {"role": Role(role).label, "scope": str(node)}
    if role in HIGH_ROLES:
        message = _("不能授予「%(role)s」角色：「%(scope)s」高于或不在您的管理范围内，只能在您自己的范围及其下级授予。") % args
    else:
        message = _("「%(scope)s」不在您的管理范围内，不能在此授予或撤销「%(role)s」角色。") % args
    raise PermissionDenied("scope_outside", message, {"scope": str(node)})


def _role_record(ra: RoleAssignment) -> dict:
    node = ra.grid or ra.organization or ra.place
    kind = "grid" if ra.grid_id else ("organization" if ra.organization_id else "place")
    return {"user": ra.user.username, "role": ra.role, "scope_kind": kind, "scope_code": _scope_code(node),
            "scope": ra.scope_label()}


def _user_record(user) -> dict:
    person = getattr(user, "person", None)
    return {"username": user.username, "full_name": user.first_name, "is_active": user.is_active,
            "person": person.pk if person is not None else None}


# ---- users ----

def user_create(*, actor, username: str, full_name: str, password: str, person=None, role: str | None = None,
                place=None, grid=None, organization=None):
    """Create a sign-in account, optionally linked to a registered person and with a first role.

    An account with neither a person nor a role in the actor's scope would be invisible to every
    administrator but a superuser, so a scoped administrator must give one of the two.
    """
    User = get_user_model()
    if not _is_system(actor):
        scopes.require(actor, MANAGE)
    username = validate_username(username)
    full_name = validate_full_name(full_name)
    validate_new_password(password, username=username, full_name=full_name)
    node = None
    if role:
        validate_role(role)
        if sum(x is not None for x in (place, grid, organization)) != 1:
            raise ValidationFailed("one_scope", _("角色必须且只能有一个范围：地点、网格或组织。"))
        node = place or grid or organization
        _require_grant(actor, role, node)
    elif person is None and not _is_system(actor):
        raise ValidationFailed(
            "needs_scope", _("请为新账号关联您范围内的一名人员，或同时授予一个角色；否则账号建成后无人能管理。"))
    if person is not None and not _is_system(actor) and not scopes.can(actor, MANAGE, person):
        raise NotFound("no_person", _("人员不存在或不在您的范围内。"))
    duplicate = Conflict("duplicate_username", _("用户名 %(u)s 已被使用，请换一个。") % {"u": username})
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise duplicate
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin hits the unique index → the same 409
                user = User.objects.create_user(username=username, password=password, first_name=full_name)
        except IntegrityError:
            raise duplicate from None
        if person is not None:
            from gongzhi.org.models import Person

            if not Person.objects.filter(pk=person.pk, user__isnull=True).update(user=user):
                raise Conflict("person_linked", _("人员「%(name)s」已关联其他账号。") % {"name": person.name})
        audit.record(actor, "user.create", user, after=_user_record(user))
        if role:
            _assign(actor, user, role, node)
    return user


def user_set_active(*, actor, user, active: bool):
    """Enable or disable sign-in. Disabling also revokes every API token the account holds, and
    ends its sessions (Django refuses inactive users on every request)."""
    if not _is_system(actor):
        scopes.require(actor, MANAGE)
        if not scopes.can(actor, MANAGE, user):
            raise NotFound("no_user", _("账号不存在或不在您的范围内。"))
        if user.pk == actor.pk and not active:
            raise ValidationFailed("self_deactivate", _("不能停用您自己的账号。"))
        if user.is_superuser:
            raise PermissionDenied("superuser", _("系统管理员账号只能由系统管理员启用或停用。"))
        outside = [ra for ra in user.role_assignments.select_related("place", "grid", "organization")
                   if not scopes.can(actor, MANAGE, ra)]
        if outside:
            raise PermissionDenied("roles_outside", _(
                "该账号还在您的管理范围之外担任 %(n)s 个角色，启用或停用须由上级管理员办理。") % {"n": len(outside)})
    active = bool(active)
    with transaction.atomic():
        User = get_user_model()
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.is_active
        revoked = 0
        if not active:
            revoked = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if before != active:
            User.objects.filter(pk=user.pk).update(is_active=active)
        if before != active or revoked:
            audit.record(actor, "user.activate" if active else "user.deactivate", locked,
                         before={"is_active": before}, after={"is_active": active, "tokens_revoked": revoked})
    user.is_active = active
    return user


# ---- role assignments ----

def _assign(actor, user, role: str, node) -> RoleAssignment:
    """Insert under a lock on the user row: the unique constraint cannot see duplicates whose unused
    scope columns are NULL, so the lock is what keeps two concurrent grants from both landing."""
    fields = scope_fields(node)
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if RoleAssignment.objects.filter(user=user, role=role, **{**dict.fromkeys(SCOPE_KINDS), **fields}).exists():
        raise Conflict("duplicate_role", _("%(u)s 已在「%(scope)s」担任「%(role)s」。") % {
            "u": user.username, "scope": str(node), "role": Role(role).label})
    ra = RoleAssignment.objects.create(user=user, role=role, **fields)
    audit.record(actor, "role.assign", ra, after=_role_record(ra))
    _forget_scopes(user)
    return ra


def role_assign(*, actor, user, role: str, place=None, grid=None, organization=None) -> RoleAssignment:
    # Segregation of duties: nobody raises their own rights, whatever their scope (a superuser
    # needs no role; the command line acts as actor=None).
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise PermissionDenied("self_grant", _("不能给自己授予角色，请由其他管理员办理。"))
    validate_role(role)
    if sum(x is not None for x in (place, grid, organization)) != 1:
        raise ValidationFailed("one_scope", _("角色必须且只能有一个范围：地点、网格或组织。"))
    node = place or grid or organization
    _require_grant(actor, role, node)
    with transaction.atomic():
        return _assign(actor, user, role, node)


def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    node = assignment.grid or assignment.organization or assignment.place
    _require_grant(actor, assignment.role, node)
    if (not _is_system(actor) and assignment.user_id == actor.pk
            and MANAGE in scopes.ROLE_ACTIONS.get(assignment.role, ())):
        raise ValidationFailed("self_revoke", _("不能撤销您自己的管理角色，请由其他管理员办理。"))
    with transaction.atomic():
        record = _role_record(assignment)
        if not RoleAssignment.objects.filter(pk=assignment.pk).delete()[0]:
            raise NotFound("no_role", _("该角色已被撤销。"))
        audit.record(actor, "role.revoke", object_type="accounts.roleassignment", object_id=assignment.pk,
                     before=record)
    _forget_scopes(assignment.user)


# ---- API tokens ----

class RateLimited(GongzhiError):
    """Too many attempts: the doors answer 429 with Retry-After (`extra["retry_after"]`, seconds)."""

    status = 429


def _token_rate_check(user) -> None:
    """At most settings.TOKEN_CREATE_LIMIT tokens per account within the login cool-off period, as
    for failed sign-ins: a stolen session cannot mint keys without end. Counted under a lock on the
    user row so two concurrent requests cannot both take the last one."""
    from django.conf import settings

    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    window = settings.AXES_COOLOFF_TIME
    recent = list(ApiToken.objects.filter(user=user, created_at__gte=now - window)
                  .order_by("-created_at").values_list("created_at", flat=True)[: settings.TOKEN_CREATE_LIMIT])
    if len(recent) >= settings.TOKEN_CREATE_LIMIT:
        retry = max(1, int((recent[-1] + window - now).total_seconds()) + 1)
        raise RateLimited("too_many_tokens", _(
            "短时间内创建的 API 令牌过多，请 %(m)s 分钟后再试。") % {"m": max(1, -(-retry // 60))},
            {"retry_after": retry})


def token_create(*, actor, username: str | None = None, name: str = "", user=None) -> str:
    """Issue a token and return its key: the only time the key exists outside its hash."""
    if user is None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise ValidationFailed("no_user", _("用户 %(u)s 不存在。") % {"u": username})
    name = (name or "").strip()
    if len(name) > 80:
        raise ValidationFailed("bad_token_name", _("令牌名称不超过 80 个字。"))
    if not _is_system(actor) and actor.pk != user.pk and not scopes.can(actor, MANAGE, user):
        raise PermissionDenied("forbidden", _("您只能为自己创建 API 令牌。"))
    if not user.is_active:
        raise ValidationFailed("inactive_user", _("账号 %(u)s 已停用，不能创建令牌。") % {"u": user.username})
    with transaction.atomic():
        if not _is_system(actor):
            _token_rate_check(user)
        token, key = ApiToken.issue(user, name=name)
        audit.record(actor, "token.create", token,
                     after={"user": user.username, "prefix": token.prefix, "name": name})
    return key


def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke one token: its owner may, and so may an administrator whose scope covers the owner."""
    if not _is_system(actor) and actor.pk != token.user_id and not scopes.can(actor, MANAGE, token.user):
        raise NotFound("no_token", _("令牌不存在。"))
    with transaction.atomic():
        now = timezone.now()
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            audit.record(actor, "token.revoke", token, before={"revoked_at": None},
                         after={"user": token.user.username, "prefix": token.prefix, "revoked_at": now})
            token.revoked_at = now
    return token


# ---- sign-in lockouts ----

LOCKOUT_KINDS = ("username", "ip_address")


def lockout_release(*, actor, kind: str, value: str) -> int:
    """Lift a sign-in lockout (django-axes) on an account name or a client address, audited.
    Scope: an account name must belong to an account the actor manages (a superuser may lift any
    name); an address may be lifted by any account administrator. Returns the failures cleared."""
    from axes.utils import reset

    from . import selectors

    value = (value or "").strip()
    if kind not in LOCKOUT_KINDS or not value:
        raise ValidationFailed("bad_lockout", _("请指明要解锁的账号或地址。"))
    if not _is_system(actor):
        scopes.require(actor, MANAGE)
        if kind == "username" and not selectors.users_visible_to(actor).filter(username=value).exists():
            raise NotFound("no_user", _("账号不存在或不在您的范围内。"))
    with transaction.atomic():
        cleared = reset(username=value) if kind == "username" else reset(ip=value)
        if not cleared:
            raise NotFound("no_lockout", _("%(v)s 当前没有被锁定。") % {"v": value})
        audit.record(actor, "login.unlock", object_type="axes.lockout", object_id=f"{kind}:{value}"[:64],
                     after={kind: value, "failures_cleared": cleared})
    return cleared
