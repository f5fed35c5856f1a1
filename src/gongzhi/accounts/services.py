"""Accounts: users, role assignments and tokens."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import ValidationFailed

from .models import ApiToken, Role, RoleAssignment


def role_assign(*, actor, user, role: str, place=None, grid=None, organization=None) -> RoleAssignment:
    if role not in Role.values:
        raise ValidationFailed("bad_role", _("未知的角色：%(r)s") % {"r": role})
    if sum(x is not None for x in (place, grid, organization)) != 1:
        raise ValidationFailed("one_scope", _("角色必须且只能有一个范围：地点、网格或组织。"))
    with transaction.atomic():
        ra, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, place=place, grid=grid, organization=organization
        )
        if created:
            audit.record(actor, "role.assign", ra, after={"user": user.username, "role": role,
                                                          "scope": ra.scope_label()})
    user.__dict__.pop("_gz_scopes", None)
    return ra


def token_create(*, actor, username: str, name: str = "") -> str:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationFailed("no_user", _("用户 %(u)s 不存在。") % {"u": username})
    with transaction.atomic():
        token, key = ApiToken.issue(user, name=name)
        audit.record(actor, "token.create", token, after={"user": username, "prefix": token.prefix})
    return key
