"""The public pages of appeals (no sign-in): one page per appeal, and a list with a map per community.

Both read the one public view (appeals/public.py) and nothing else: no reporter, no staff names,
masked text, the micro grid's centre for a location.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.places.models import Grid

from . import public, selectors
from .models import State


def _cache(request, resp):
    # As the wish wall: a minute in shared caches for everyone, in the browser only once signed in
    # (the header then carries the user's own menu).
    resp["Cache-Control"] = "private, max-age=60" if request.user.is_authenticated else "public, max-age=60"
    return resp


def _point(view) -> dict:
    return {"number": view.number, "title": view.title, "category": view.category_name, "state": view.state,
            "state_label": view.state_label, "lon": view.lon, "lat": view.lat,
            "url": reverse("appeals:public_detail", args=[view.number])}


def _outlines(views) -> list[dict]:
    """The micro grids of the appeals shown (public, as on the grid map), drawn so that a point reads
    as "somewhere in this grid" even without a base map."""
    codes = sorted({v.grid_code for v in views})
    return [{"code": g.code, "name": g.name, "geometry": g.geometry}
            for g in Grid.objects.filter(code__in=codes).only("code", "name", "geometry")]


def public_list(request):
    q = public.parse_list_query(request.GET)  # a bad filter is a 400 page (GongzhiErrorMiddleware)
    items, next_after = public.public_page(q)
    base = reverse("appeals:public_list")
    next_url = f"{base}?{urlencode(q.params(after=next_after))}" if next_after else None
    first_url = f"{base}?{urlencode(q.params())}" if q.after is not None else None
    states = [("open", _("未办结")), ("closed", _("已办结或已结束"))] + [(s.value, s.label) for s in State]
    resp = render(request, "appeals/public_list.html", {
        "q": q, "items": items, "next_url": next_url, "first_url": first_url,
        "categories": selectors.categories(), "states": states, "tile_url": settings.MAP_TILE_URL,
        "points": [_point(v) for v in items], "outlines": _outlines(items)})
    return _cache(request, resp)


def public_detail(request, number: str):
    view = public.public_appeal(public.public_get(number), with_steps=True)  # unknown: a 404 page
    resp = render(request, "appeals/public_detail.html", {
        "view": view, "tile_url": settings.MAP_TILE_URL,
        "list_url": reverse("appeals:public_list") + "?" + urlencode({"community": view.community_code}),
        "point": _point(view), "outlines": _outlines([view])})
    return _cache(request, resp)

