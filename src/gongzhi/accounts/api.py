"""Who am I: the current user's roles and the actions they may take."""

from ninja import Router

from gongzhi.api import AUTH
from gongzhi.core import scopes

router = Router(tags=["accounts"])


@router.get("/me", auth=AUTH, summary="The current user, roles and scopes")
def me(request):
    u = request.user
    return {
        "username": u.username,
        "roles": [{"role": s.role, "scope_kind": s.kind, "scope_path": s.path} for s in scopes.scopes_of(u)],
        "actions": [a for a in scopes.ALL_ACTIONS if scopes.can(u, a)],
    }
