"""The public JSON door to appeals: the same public view as the public pages and Open311.

No sign-in needed (a token or a session is accepted and changes nothing): no reporter, no staff
names, masked text, the micro grid's centre for a location.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from gongzhi.accounts.authentication import OPTIONAL_AUTH

from . import public

router = Router(tags=["public"])


def _cache(request, response):
    # As the public pages: a minute in shared caches, unless the caller signed in (then the browser only).
    signed_in = request.user.is_authenticated or bool(request.headers.get("Authorization"))
    response["Cache-Control"] = "private, max-age=60" if signed_in else "public, max-age=60"


@router.get("/public/appeals", auth=OPTIONAL_AUTH,
            summary="Recent appeals (public view), newest first; filters community, category, state; keyset `after`")
def public_appeal_list(request, response: HttpResponse, community: str = "", category: str = "", state: str = "",
                       after: str = "", limit: str = ""):
    q = public.parse_list_query({"community": community, "category": category, "state": state, "after": after,
                                 "limit": limit})
    items, next_after = public.public_page(q)
    _cache(request, response)
    return {"items": [v.as_dict() for v in items], "next_after": next_after}


@router.get("/public/appeals/{number}", auth=OPTIONAL_AUTH, summary="One appeal's public view with its public steps")
def public_appeal_get(request, response: HttpResponse, number: str):
    view = public.public_appeal(public.public_get(number), with_steps=True)
    _cache(request, response)
    return view.as_dict()
