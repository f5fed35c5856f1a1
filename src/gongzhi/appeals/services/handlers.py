"""Who handles an appeal: the on-duty holder of a grid, the holder of a level, whoever handed it down."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.models import RoleAssignment
from gongzhi.org.models import Post, PostTitle
from gongzhi.places.models import Grid

from ..models import AppealEvent, Level
from ..workflow import LEVEL_ROLE, Action
from .common import _ancestors


def on_duty_owner(grid: Grid, today: dt.date | None = None):
    """The first responder for a micro grid: (user, level).

    The grid's grid worker with a linked user account (lowest post id, in term), else its grid
    leader, else the community worker of its community (the appeal then starts at community level).
    """
    return on_duty_owners([grid], today)[grid.pk]


def on_duty_owners(grids, today: dt.date | None = None) -> dict:
    """`on_duty_owner` of many grids, {grid id: (user, level)}: one query for their posts."""
    today = today or timezone.localdate()
    in_term = Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gt=today))
    rank = {PostTitle.GRID_WORKER: 0, PostTitle.GRID_LEADER: 1}
    best: dict[int, Post] = {}
    for post in (Post.objects.filter(in_term, grid__in=[g.pk for g in grids], title__in=list(rank),
                                     person__user__isnull=False, person__user__is_active=True)
                 .select_related("person__user").order_by("id")):
        held = best.get(post.grid_id)
        if held is None or rank[post.title] < rank[held.title]:
            best[post.grid_id] = post
    out = {}
    for g in grids:
        if g.pk in best:
            out[g.pk] = (best[g.pk].person.user, Level.GRID)
            continue
        user = level_holder(Level.COMMUNITY, grid_path=g.path, place_path=g.place_path)
        out[g.pk] = (user, Level.COMMUNITY) if user is not None else (None, Level.GRID)
    return out


def level_holder(level: str, *, grid_path: str, place_path: str):
    """The user holding the level's role on the narrowest scope covering the place; ties by lowest id."""
    role = LEVEL_ROLE[level]
    rows = (RoleAssignment.objects.filter(role=role, user__is_active=True)
            .filter(Q(place__path__in=_ancestors(place_path)) | Q(grid__path__in=_ancestors(grid_path)))
            .select_related("user", "place", "grid"))
    best = sorted(rows, key=lambda ra: (-len((ra.grid or ra.place).path), ra.user_id))
    return best[0].user if best else None


def _last_mover(appeal, action: str, level: str):
    """The active user who last moved the appeal away from `level` by `action` (hand on or back)."""
    last = (AppealEvent.objects.filter(appeal=appeal, action=action, data__from_level=level)
            .order_by("-id").values_list("data", flat=True).first())
    if last and last.get("from_owner"):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=last["from_owner"], is_active=True).first()
    return None


def _owner_below(appeal, level: str):
    """Who gets an appeal handed back down: whoever handed it up from that level, else the default."""
    user = _last_mover(appeal, Action.HAND_ON, level)
    if user is not None:
        return user
    if level == Level.GRID:
        user, got = on_duty_owner(appeal.grid)
        return user if got == Level.GRID else None
    return level_holder(level, grid_path=appeal.grid_path, place_path=appeal.place_path)
