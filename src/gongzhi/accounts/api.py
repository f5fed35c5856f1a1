"""Accounts in the JSON API: who am I; users and role assignments (for administrators, scoped);
one's own API tokens. Writes go through the same services as the pages; out-of-scope ids are 404,
a missing permission 403, bad input 400, each as {"error": {"code", "message"}}.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import scopes
from gongzhi.core.errors import NotFound

from . import selectors, services
from .models import ApiToken, RoleAssignment

router = Router(tags=["accounts"])
MANAGE = services.MANAGE


@router.get("/me", auth=AUTH, summary="The current user, roles and scopes")
def me(request):
    u = request.user
    return {
        "username": u.username,
        "roles": [{"role": s.role, "scope_kind": s.kind, "scope_path": s.path} for s in scopes.scopes_of(u)],
        "actions": [a for a in scopes.ALL_ACTIONS if scopes.can(u, a)],
    }


# ---- output shapes ----

def role_out(ra: RoleAssignment) -> dict:
    node = ra.grid or ra.organization or ra.place
    kind = "grid" if ra.grid_id else ("organization" if ra.organization_id else "place")
    return {"id": ra.id, "role": ra.role, "scope": {"kind": kind, "id": node.id,
                                                    "code": node.code if kind != "organization" else None,
                                                    "name": node.name}}


def user_out(actor, u) -> dict:
    inside, outside = selectors.roles_split(actor, u)
    person = getattr(u, "person", None)
    return {
        "id": u.id,
        "username": u.username,
        "full_name": u.first_name,
        "is_active": u.is_active,
        "last_login": u.last_login.isoformat() if u.last_login else None,
        "person_id": person.id if person is not None else None,
        "roles": [role_out(ra) for ra in inside],
        "roles_outside_scope": outside,
    }


def token_out(t: ApiToken) -> dict:
    return {"id": t.id, "prefix": t.prefix, "name": t.name, "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}


# ---- users and roles ----

@router.get("/users", auth=AUTH, summary="Accounts in my scope, keyset-paginated")
def users(request, q: str = "", after: int | None = None, limit: int = 50):
    scopes.require(request.user, MANAGE)
    rows, next_after = selectors.keyset_page(selectors.users_visible_to(request.user, q=q), after=after, limit=limit)
    return {"items": [user_out(request.user, u) for u in rows], "next_after": next_after}


class UserIn(Schema):
    username: str
    full_name: str
    password: str
    person_id: int | None = None
    role: str | None = None
    scope_kind: str = "place"
    scope_code: str = ""


@router.post("/users", auth=AUTH, response={201: dict},
             summary="Create an account, linked to a person in scope and/or with a first role")
def user_create(request, body: UserIn):
    scopes.require(request.user, MANAGE)
    person = None
    if body.person_id is not None:
        from gongzhi.org.models import Person

        person = scopes.restrict(Person.objects.all(), request.user, MANAGE).filter(pk=body.person_id).first()
        if person is None:
            raise NotFound("no_person", _("人员不存在或不在您的范围内。"))
    scope = services.scope_fields(services.scope_node(body.scope_kind, body.scope_code)) if body.role else {}
    user = services.user_create(actor=request.user, username=body.username, full_name=body.full_name,
                                password=body.password, person=person, role=body.role or None, **scope)
    return Status(201, user_out(request.user, selectors.user_get_for(request.user, user.pk)))


class RoleIn(Schema):
    role: str
    scope_kind: str
    scope_code: str


@router.post("/users/{user_id}/roles", auth=AUTH, response={201: dict}, summary="Grant a role on a scope node")
def role_grant(request, user_id: int, body: RoleIn):
    """scope_kind is place (code: division code), grid (code: grid code) or organization (code: its id)."""
    scopes.require(request.user, MANAGE)
    user = selectors.user_get_for(request.user, user_id)
    node = services.scope_node(body.scope_kind, body.scope_code)
    ra = services.role_assign(actor=request.user, user=user, role=body.role, **services.scope_fields(node))
    return Status(201, role_out(ra))


@router.delete("/role-assignments/{assignment_id}", auth=AUTH, response={204: None}, summary="Revoke a role")
def role_revoke(request, assignment_id: int):
    scopes.require(request.user, MANAGE)
    services.role_revoke(actor=request.user, assignment=selectors.assignment_get_for(request.user, assignment_id))
    return Status(204, None)


class ActiveIn(Schema):
    active: bool


@router.post("/users/{user_id}/active", auth=AUTH, summary="Enable or disable an account (disabling revokes its tokens)")
def user_set_active(request, user_id: int, body: ActiveIn):
    scopes.require(request.user, MANAGE)
    user = services.user_set_active(actor=request.user, user=selectors.user_get_for(request.user, user_id),
                                    active=body.active)
    return user_out(request.user, selectors.user_get_for(request.user, user.pk))


# ---- own API tokens ----

@router.get("/tokens", auth=AUTH, summary="My API tokens (prefix only; the key is never shown again)")
def tokens(request):
    return {"items": [token_out(t) for t in selectors.tokens_of(request.user)]}


class TokenIn(Schema):
    name: str = ""


@router.post("/tokens", auth=AUTH, response={201: dict, 429: dict},
             summary="Create an API token; the key is in this answer only (429 with Retry-After when too many)")
def token_create(request, body: TokenIn):
    try:
        key = services.token_create(actor=request.user, user=request.user, name=body.name)
    except services.RateLimited as exc:
        resp = JsonResponse({"error": exc.as_dict()}, status=exc.status, json_dumps_params={"ensure_ascii": False})
        resp["Retry-After"] = str(exc.extra["retry_after"])
        return resp
    tok = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    return Status(201, {**token_out(tok), "token": key})


@router.delete("/tokens/{token_id}", auth=AUTH, response={204: None},
               summary="Revoke one of my tokens (administrators: a token of an account they manage)")
def token_revoke(request, token_id: int):
    services.token_revoke(actor=request.user, token=selectors.token_get_for(request.user, token_id))
    return Status(204, None)
