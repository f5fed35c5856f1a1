"""The pickers' search (one service for the pages' pickers and the JSON API).

`pick(actor, kind, q=…, purpose=…, context=…)` finds what the actor may choose for a purpose, by
name, full pinyin or pinyin initials (core.search keys), each with a detail line that tells
namesakes apart (organisation, community, masked phone tail). `pick_one` checks a submitted id
against the same scope, so a form never accepts what its picker would not have offered.

Purposes and their scopes (the rules live in the selectors they name):
- "registry" (default): the actor's registry scope (core.scopes, registry.view); "edit": where the
  actor may edit the registry (registry.edit), as the registry's forms check.
- "public": communities, places and grids, which anyone signed in may name (a resident posting a
  need for a community; grid boundaries are public already).
- "whistle" (context: an appeal number): departments and member units the appeal may summon
  (appeals.selectors.summonable_organizations), for an actor who may blow its whistle.
- "dispatch" (context: a need number): units, party members and volunteer teams of the need's
  community (lists.selectors.dispatch_takers), for an actor who may dispatch it.
- "organise": what a volunteering form may name: communities (those the actor manages, else any),
  member units the actor organises for (volunteer.organise), volunteer teams the actor may edit.
- "board" (communities): those inside the actor's dispatch scopes, as the dispatch board filters.
- "team" (context: a team id; people): the team's members, for whoever may edit the team (its leader).
- "leader" (context: a community id; people): who may lead a new volunteer team of that community
  (volunteering.services.leader_candidates), for an actor who may form teams.
- "grant" (places, grids, organisations): the scope nodes a role may be granted on, inside the
  actor's own accounts.manage scope (the rule accounts.services checks on every grant); people: those a
  new account may be linked to, in the same scope.
Communities for "public" may be searched without signing in (the public appeal list filters by them).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.core import scopes
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.search import QUERY_MAX, query_terms, ranked, search_key
from gongzhi.places.models import Grid, Place, PlaceKind

from .models import UNIT_KINDS, Organization, OrgKind, Person

KINDS = ("organization", "department", "member_unit", "person", "grid", "place", "community", "taker", "team")
PURPOSES = ("registry", "edit", "public", "whistle", "dispatch", "organise", "board", "team", "leader", "grant")
# Which kinds each purpose offers.
PURPOSE_KINDS = {
    "registry": ("organization", "department", "member_unit", "person", "grid", "place", "community"),
    "edit": ("organization", "department", "member_unit", "person", "grid", "place", "community"),
    "public": ("community", "place", "grid"),
    "whistle": ("organization", "department", "member_unit"),
    "dispatch": ("member_unit", "person", "taker"),
    "organise": ("community", "member_unit", "team"),
    "board": ("community",),
    "team": ("person",),
    "leader": ("person",),
    "grant": ("place", "grid", "organization", "person"),
}
LIMIT_DEFAULT, LIMIT_MAX = 20, 50
# Prefixes of a dispatch taker's value ("org:12", "person:7", "team:3"), as the need form posts it.
TAKER_PREFIX = {"units": "org", "members": "person", "teams": "team"}


def _bad(code, message, **details):
    return ValidationFailed(code, message, details or None)


def _check(kind: str, purpose: str, limit) -> tuple[str, int]:
    purpose = purpose or "registry"
    if kind not in KINDS:
        raise _bad("bad_kind", _("未知的选择类型：%(k)s（可选：%(all)s）。") % {"k": kind, "all": "、".join(KINDS)})
    if purpose not in PURPOSES:
        raise _bad("bad_purpose", _("未知的用途：%(p)s（可选：%(all)s）。") % {"p": purpose, "all": "、".join(PURPOSES)})
    if kind not in PURPOSE_KINDS[purpose]:
        raise _bad("bad_kind", _("用途「%(p)s」不能选择「%(k)s」（可选：%(all)s）。") % {
            "p": purpose, "k": kind, "all": "、".join(PURPOSE_KINDS[purpose])})
    try:
        limit = LIMIT_DEFAULT if limit in (None, "") else int(limit)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= LIMIT_MAX:
        raise _bad("bad_limit", _("每次最多返回 %(max)d 条，limit 应在 1 到 %(max)d 之间。") % {"max": LIMIT_MAX})
    return purpose, limit


def _signed_in(actor, kind="", purpose=""):
    if purpose == "public" and kind == "community":
        return  # community names are public (the public appeal list and map show them)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("forbidden", _("请先登录。"))


def _whistle_scope(actor, context):
    from gongzhi.appeals import selectors as appeal_selectors
    from gongzhi.appeals.permissions import allowed_actions
    from gongzhi.appeals.workflow import Action

    if not context:
        raise _bad("context_required", _("吹哨选择单位时需要给出诉求编号（for=whistle&appeal=编号）。"))
    appeal = appeal_selectors.appeal_get_for(actor, str(context)[:40])
    if Action.WHISTLE not in allowed_actions(actor, appeal):
        raise PermissionDenied("forbidden", _("您现在不能为这个诉求吹哨。"))
    return appeal_selectors.summonable_organizations(appeal).select_related("place", "parent")


def _dispatch_scope(actor, context) -> dict:
    from gongzhi.lists import permissions as list_permissions
    from gongzhi.lists import selectors as list_selectors
    from gongzhi.lists.services import need_get_for

    if not context:
        raise _bad("context_required", _("派单选择承接方时需要给出需求编号（for=dispatch&need=编号）。"))
    need = need_get_for(actor=actor, number=str(context)[:40])
    if "dispatch" not in list_permissions.need_actions(actor, need):
        raise PermissionDenied("forbidden", _("您现在不能派发这个需求。"))
    return list_selectors.dispatch_takers(need)


def _organise_scope(actor, kind):
    from gongzhi.volunteering import services as vol
    from gongzhi.volunteering.models import Team

    if kind == "community":
        qs = Place.objects.filter(kind=PlaceKind.COMMUNITY).select_related("parent")
        if actor.is_superuser:
            return qs
        mine = qs.filter(scopes.scope_q(actor, vol.MANAGE, Place))
        return mine if mine.exists() else qs
    if kind == "member_unit":
        return Organization.objects.filter(scopes.scope_q(actor, vol.ORGANISE, Organization)).select_related(
            "place", "parent")
    teams = Team.objects.filter(active=True).select_related("community")
    if actor.is_superuser:
        return teams
    person = vol.person_of(actor)
    q = scopes.scope_q(actor, vol.MANAGE, Team) | Q(unit__in=Organization.objects.filter(
        scopes.scope_q(actor, vol.ORGANISE, Organization)))
    if person is not None:
        q |= Q(leader=person)
    return teams.filter(q)


def _board_scope(actor):
    from gongzhi.appeals import selectors as appeal_selectors

    if not appeal_selectors.can_use_board(actor):
        raise PermissionDenied("forbidden", _("调度台只对社区工作者和街道干部开放。"))
    qs = Place.objects.filter(kind=PlaceKind.COMMUNITY).select_related("parent")
    if actor.is_superuser:
        return qs
    q = Q(pk__in=[])
    for s in appeal_selectors.dispatch_scopes(actor):
        q |= Q(path__startswith=s.path) if s.kind == "place" else Q(path=s.place_path)
    return qs.filter(q)


def _team_scope(actor, context):
    from gongzhi.volunteering import services as vol
    from gongzhi.volunteering.models import Team

    team = Team.objects.filter(pk=int(context)).first() if str(context or "").isdigit() and len(
        str(context)) < 16 else None
    if team is None:
        raise _bad("context_required", _("选择队长时需要给出服务队编号（for=team&team=编号）。"))
    if not vol.can_edit_team(actor, team):
        raise PermissionDenied("forbidden", _("您不能修改这个服务队。"))
    return Person.objects.filter(team_memberships__team=team).select_related(
        "registered_community", "party__home_organization")


def _leader_scope(actor, context):
    from gongzhi.volunteering import services as vol

    raw = str(context or "")
    community = Place.objects.filter(pk=int(raw), kind=PlaceKind.COMMUNITY).first() if raw.isdigit() and len(
        raw) < 16 else None
    if community is None:
        raise _bad("context_required", _("选择队长时需要先选社区（for=leader&community=编号）。"))
    if not vol.may_form_teams(actor):
        raise PermissionDenied("forbidden", _("只有社区工作者或成员单位联络员可以组建志愿服务队。"))
    return vol.leader_candidates(community).select_related("registered_community", "party__home_organization")


def _grant_scope(actor, kind):
    from gongzhi.accounts.services import MANAGE, grantable

    if not scopes.can(actor, MANAGE):
        raise PermissionDenied("forbidden", _("只有账号管理员可以授予角色。"))
    model = {"place": Place, "grid": Grid, "person": Person}.get(kind, Organization)
    qs = grantable(actor, model)
    if kind == "person":
        return qs.select_related("registered_community", "party__home_organization")
    if kind == "grid":
        return qs.select_related("community")
    return qs.select_related("parent") if kind == "place" else qs.select_related("place", "parent")


def _registry(actor, model, purpose="registry"):
    if purpose == "public":
        return model.objects.all()
    return scopes.restrict(model.objects.all(), actor, "registry.edit" if purpose == "edit" else "registry.view")


def _base(actor, kind: str, purpose: str, context):
    """The queryset (or, for dispatch takers, the dict of querysets) the actor may choose from."""
    if purpose == "organise":
        return _organise_scope(actor, kind)
    if purpose == "board":
        return _board_scope(actor)
    if purpose == "team":
        return _team_scope(actor, context)
    if purpose == "leader":
        return _leader_scope(actor, context)
    if purpose == "grant":
        return _grant_scope(actor, kind)
    if purpose == "whistle":
        orgs = _whistle_scope(actor, context)
    elif purpose == "dispatch":
        takers = _dispatch_scope(actor, context)
        return takers if kind == "taker" else takers["units" if kind == "member_unit" else "members"]
    elif kind in ("organization", "department", "member_unit"):
        orgs = _registry(actor, Organization, purpose).select_related("place", "parent")
    elif kind == "person":
        return _registry(actor, Person, purpose).select_related("registered_community", "party__home_organization")
    elif kind == "grid":
        return _registry(actor, Grid, purpose).filter(retired_at__isnull=True).select_related("community")
    elif kind == "community":
        return _registry(actor, Place, purpose).filter(kind=PlaceKind.COMMUNITY).select_related("parent")
    else:
        return _registry(actor, Place, purpose).select_related("parent")
    if kind == "department":
        return orgs.filter(kind=OrgKind.DEPARTMENT)
    if kind == "member_unit":
        return orgs.filter(kind__in=UNIT_KINDS).exclude(kind=OrgKind.DEPARTMENT)
    return orgs


def _tail(phone_masked: str) -> str:
    """The masked phone's last four digits (core.pii.mask_phone keeps only those and the prefix)."""
    tail = (phone_masked or "")[-4:]
    return _("尾号%(t)s") % {"t": tail} if tail.isdigit() else ""


def _join(*parts) -> str:
    return " · ".join(str(p) for p in parts if p)


def describe(row) -> dict:
    """One choice: its value (the id a form posts), its label and the line that tells namesakes apart."""
    if isinstance(row, Organization):
        where = row.place.name if row.place_id else ""
        parent = row.parent.name if row.parent_id and row.kind == OrgKind.DEPARTMENT else ""
        return {"id": row.pk, "label": row.name, "detail": _join(row.get_kind_display(), parent or where),
                "type": "organization"}
    if isinstance(row, Person):
        party = getattr(row, "party", None)  # the reverse one-to-one raises when unset
        home = party.home_organization.name if party is not None else ""
        community = row.registered_community.name if row.registered_community_id else ""
        return {"id": row.pk, "label": row.name, "detail": _join(home, community, _tail(row.phone_masked)),
                "type": "person"}
    if isinstance(row, Grid):
        return {"id": row.pk, "label": row.name, "detail": _join(row.get_level_display(), row.community.name, row.code),
                "type": "grid", "code": row.code}
    if isinstance(row, Place):
        return {"id": row.pk, "label": row.name,
                "detail": _join(row.get_kind_display(), row.parent.name if row.parent_id else "", row.code),
                "type": "place", "code": row.code}
    # A volunteer team (dispatch takers).
    return {"id": row.pk, "label": row.name, "detail": _join(_("志愿服务队"), row.community.name), "type": "team"}


def _out(row, prefix: str | None = None) -> dict:
    item = describe(row)
    item["value"] = f"{prefix}:{row.pk}" if prefix else str(row.pk)
    return item


def _teams_matching(qs, terms: list[str], limit: int) -> list:
    """Teams have no stored key: a community has a handful, so their keys are computed here."""
    rows = list(qs.order_by("name", "pk")[:500])
    keys = {t.pk: search_key(t.name) for t in rows}
    return [t for t in rows if all(term in keys[t.pk] for term in terms)][:limit]


def pick(actor, kind: str, *, q: str = "", purpose: str = "", context=None, limit=LIMIT_DEFAULT) -> list[dict]:
    """What the actor may choose of `kind` for `purpose`, matching `q` (name, pinyin or initials)."""
    purpose, limit = _check(kind, purpose, limit)
    _signed_in(actor, kind, purpose)
    if q is not None and len(q) > QUERY_MAX:
        raise _bad("query_too_long", _("搜索词最多 %(max)d 个字。") % {"max": QUERY_MAX})
    terms = query_terms(q or "")
    base = _base(actor, kind, purpose, context)
    if kind == "team":
        return [_out(row) for row in _teams_matching(base, terms, limit)]
    if kind != "taker":
        return [_out(row) for row in ranked(base, terms, limit)]
    found = []
    for group, prefix in TAKER_PREFIX.items():
        rows = (_teams_matching(base[group], terms, limit) if group == "teams"
                else ranked(base[group], terms, limit))
        found += [_out(row, prefix) for row in rows]
    return found[:limit] if terms else _interleave(found, limit)


def _interleave(items: list[dict], limit: int) -> list[dict]:
    """Without a query, a taste of each type rather than the first type only."""
    by_type: dict[str, list[dict]] = {}
    for item in items:
        by_type.setdefault(item["type"], []).append(item)
    out, i = [], 0
    while len(out) < limit and any(i < len(v) for v in by_type.values()):
        out += [v[i] for v in by_type.values() if i < len(v)]
        i += 1
    return out[:limit]


def pick_one(actor, kind: str, value, *, purpose: str = "", context=None):
    """The row a form posted, if the picker would have offered it; otherwise a clear error.
    For dispatch takers `value` is "org:12", "person:7" or "team:3" and a (group, row) pair is returned."""
    purpose, _limit = _check(kind, purpose, LIMIT_DEFAULT)
    _signed_in(actor, kind, purpose)
    base = _base(actor, kind, purpose, context)
    raw = str(value or "").strip()
    group = None
    if kind == "taker":
        prefix, _sep, raw = raw.partition(":")
        group = {v: k for k, v in TAKER_PREFIX.items()}.get(prefix)
        base = base.get(group) if group else None
    row = base.filter(pk=int(raw)).first() if base is not None and raw.isdigit() and len(raw) <= 15 else None
    if row is None:
        raise _bad("not_choosable", _("所选的「%(v)s」不存在或不在可选范围内，请重新选择。") % {"v": str(value or "")[:40]},
                    field=kind)
    return (group, row) if kind == "taker" else row


def pick_code(actor, kind: str, code, *, purpose: str = "", context=None):
    """Like pick_one, for the forms and filters that post a place's or a grid's code."""
    purpose, _limit = _check(kind, purpose, LIMIT_DEFAULT)
    _signed_in(actor, kind, purpose)
    raw = str(code or "").strip()
    row = _base(actor, kind, purpose, context).filter(code=raw).first() if 0 < len(raw) <= 24 else None
    if row is None:
        raise _bad("not_choosable", _("所选的「%(v)s」不存在或不在可选范围内，请重新选择。") % {"v": raw[:40]},
                    field=kind)
    return row
