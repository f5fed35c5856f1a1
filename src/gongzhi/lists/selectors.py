"""Reads of the three lists, always scoped to the actor, and the public wish wall (nothing personal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Avg, Case, Count, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core import pii, scopes

from . import permissions
from .models import (
    LIVE_PROJECT_STATES,
    Need,
    NeedKind,
    NeedState,
    Project,
    ProjectState,
    Resource,
)
from .workflow import need_can_be_taken

WALL_DONE_DAYS = 90
WALL_LIMIT = 60


def _scope_q(actor, action: str, *, grid_field: str | None = "grid_path", org_field: str | None = None) -> Q:
    """Rows whose place (or grid, or org) path lies in one of the actor's scopes for `action`."""
    q = Q(pk__in=[])
    for s in scopes.scopes_of(actor):
        if action not in scopes.ROLE_ACTIONS.get(s.role, ()):
            continue
        if s.kind == "place":
            q |= Q(place_path__startswith=s.path)
        elif s.kind == "grid":
            if grid_field:
                q |= Q(**{f"{grid_field}__startswith": s.path})
                q |= Q(**{grid_field: ""}, place_path__startswith=s.place_path)
            else:
                q |= Q(place_path__startswith=s.place_path)
        elif s.kind == "org" and org_field:
            q |= Q(**{f"{org_field}__startswith": s.path})
    return q


def _taker_q(actor, prefix: str = "taker_") -> Q:
    q = Q(**{f"{prefix}person__user": actor}) | Q(**{f"{prefix}team__leader__user": actor})
    for path in permissions.liaison_org_paths(actor):
        q |= Q(**{f"{prefix}organization__path__startswith": path})
        q |= Q(**{f"{prefix}team__unit__path__startswith": path})
    return q


def needs_visible_to(actor):
    qs = Need.objects.select_related("place", "grid")
    if not permissions.signed_in(actor):
        return qs.none()
    if actor.is_superuser:
        return qs
    q = _scope_q(actor, "lists.view") | Q(requester=actor)
    if permissions.is_taker(actor):
        # Takers browse the open needs they could claim, and keep seeing the ones they took.
        mine = Project.objects.filter(_taker_q(actor)).values("pk")
        q |= Q(state=NeedState.OPEN) | Q(links__project__in=mine)
    return qs.filter(q).distinct()


def filter_needs(qs, *, state="", kind="", skill="", category="", urgency="", source="", q="", place=""):
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if skill:
        qs = qs.filter(skill=skill)
    if category:
        qs = qs.filter(category=category)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if source:
        qs = qs.filter(source=source)
    if place:
        qs = qs.filter(place__code=place) if not str(place).isdigit() else qs.filter(place_id=place)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(description__icontains=q))
    return qs


def projects_visible_to(actor):
    qs = Project.objects.select_related("taker_organization", "taker_team", "taker_person", "place", "resource")
    if not permissions.signed_in(actor):
        return qs.none()
    if actor.is_superuser:
        return qs
    q = _scope_q(actor, "lists.view", grid_field=None) | _taker_q(actor) | Q(needs__requester=actor)
    return qs.filter(q).distinct()


def filter_projects(qs, *, state="", via="", taker_kind="", q=""):
    if state == "live":
        qs = qs.filter(state__in=(ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED))
    elif state:
        qs = qs.filter(state=state)
    if via:
        qs = qs.filter(via=via)
    if taker_kind:
        qs = qs.filter(taker_kind=taker_kind)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q))
    return qs


def my_orders(actor):
    """Projects dispatched to or claimed by the actor as a taker (themself, their unit, their team)."""
    if not permissions.signed_in(actor):
        return Project.objects.none()
    return (Project.objects.select_related("taker_organization", "taker_team", "taker_person", "place")
            .filter(_taker_q(actor)).distinct())


def resources_visible_to(actor):
    """Signed-in users see the active resources (a directory of offers); staff in scope and owners
    also see inactive ones."""
    qs = Resource.objects.select_related("organization", "team", "person").prefetch_related("places", "grids")
    if not permissions.signed_in(actor):
        return qs.none()
    if actor.is_superuser:
        return qs
    q = (Q(active=True) | _scope_q(actor, "lists.view", grid_field=None, org_field="org_path")
         | Q(person__user=actor) | Q(team__leader__user=actor))
    for path in permissions.liaison_org_paths(actor):
        q |= Q(org_path__startswith=path)
    return qs.filter(q).distinct()


def resources_owned_by(actor, qs=None):
    """The resources the actor offers: themself, their team (as leader), their unit (as liaison)."""
    qs = resources_visible_to(actor) if qs is None else qs
    q = Q(person__user=actor) | Q(team__leader__user=actor)
    for path in permissions.liaison_org_paths(actor):
        q |= Q(org_path__startswith=path)
    return qs.filter(q)


def filter_resources(qs, *, kind="", skill="", owner_kind="", active="", q=""):
    if kind:
        qs = qs.filter(kind=kind)
    if skill:
        qs = qs.filter(skill=skill)
    if owner_kind:
        qs = qs.filter(owner_kind=owner_kind)
    if active in ("1", "true", True):
        qs = qs.filter(active=True)
    elif active in ("0", "false", False):
        qs = qs.filter(active=False)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return qs


def need_project(need: Need) -> Project | None:
    """The need's live project, if it has been taken."""
    return Project.objects.filter(links__need=need, links__live=True).select_related(
        "taker_organization", "taker_team", "taker_person").first()


def taker_name(project: Project, *, public: bool = False) -> str:
    """A project's taker by name; on public pages a member's name is masked (王**)."""
    if project.taker_person_id:
        name = project.taker_person.name
        return pii.mask_name(name) if public else name
    return str(project.taker)


# ---- a need's timeline, from the audit trail ----

TIMELINE_LABELS = {
    "need.create": _("发布需求"), "need.update": _("修改需求"), "need.withdraw": _("撤回需求"),
    "need.claim": _("认领"), "need.dispatch": _("社区派单"), "need.rate": _("评价"),
    "project.accept": _("接单"), "project.decline": _("谢绝"), "project.cancel": _("撤销项目"),
    "project.done": _("完成"),
}


def need_timeline(need: Need, *, show_names: bool) -> list[dict]:
    """Every write to the need and to the projects it has been in, oldest first. Names of who acted
    are for staff only (`show_names`)."""
    from gongzhi.core.models import AuditEntry

    project_ids = [str(pk) for pk in Project.objects.filter(links__need=need).values_list("pk", flat=True)]
    rows = AuditEntry.objects.filter(
        Q(object_type="lists.need", object_id=str(need.pk))
        | Q(object_type="lists.project", object_id__in=project_ids)).exclude(action="project.create").order_by("id")
    out = []
    for e in rows.select_related("actor"):
        who = ""
        if show_names and e.actor is not None:
            who = e.actor.get_full_name() or e.actor.username
        note = (e.after or {}).get("reason") or (e.after or {}).get("decline_reason") or ""
        out.append({"at": e.at, "label": TIMELINE_LABELS.get(e.action, e.action), "who": who, "note": note})
    return out


# ---- the public wish wall ----

def takeable_needs_q(today: dt.date | None = None) -> Q:
    """Needs that can still be taken (claimed or dispatched), as a query: the same rule as
    workflow.need_can_be_taken, which guards the claim itself."""
    return Q(state=NeedState.OPEN, due_on__gte=today or timezone.localdate())


def wishes_waiting_count(*, place=None, today: dt.date | None = None) -> int:
    """How many micro-wishes wait for someone to take them: every one, not only the cards shown."""
    qs = Need.objects.filter(takeable_needs_q(today), kind=NeedKind.MICRO_WISH)
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    return qs.count()


def wish_wall(*, place=None, today: dt.date | None = None, limit: int = WALL_LIMIT) -> list[dict]:
    """Open micro-wishes and those fulfilled in the last 90 days, as plain dicts with nothing personal:
    no requester, no description, the beneficiary only as the alias typed ("王奶奶"), the place only
    as its community's name and a member taker's name masked. This is the wall's one public view
    (the page and the API both render it): every typed text in it goes through
    pii.mask_public_text, so a phone or ID number typed into a title never reaches the wall."""
    public = pii.mask_public_text
    today = today or timezone.localdate()
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=WALL_DONE_DAYS), dt.time()))
    qs = Need.objects.filter(kind=NeedKind.MICRO_WISH).filter(
        Q(state__in=(NeedState.OPEN, NeedState.DISPATCHED, NeedState.CLAIMED, NeedState.ACCEPTED))
        | Q(state__in=(NeedState.DONE, NeedState.RATED), updated_at__gte=since)).select_related("place")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    # Open wishes first (they wait for someone), then those being fulfilled, then the fulfilled ones.
    rank = Case(When(state=NeedState.OPEN, then=Value(0)), When(state__in=(NeedState.DONE, NeedState.RATED),
                                                               then=Value(2)), default=Value(1))
    needs = list(qs.annotate(rank=rank).order_by("rank", "-created_at", "-id")[:limit])
    projects = {}
    for link in (Project.needs.through.objects.filter(need__in=needs, live=True)
                 .select_related("project__taker_organization", "project__taker_team", "project__taker_person")):
        projects[link.need_id] = link.project
    out = []
    for n in needs:
        p = projects.get(n.pk)
        out.append({
            "number": n.number, "title": public(n.title), "beneficiary": public(n.beneficiary),
            "community": n.place.name, "category": n.category, "category_label": n.get_category_display(),
            "state": n.state, "state_label": n.get_state_display(), "due_on": n.due_on,
            "fulfilled": n.state in (NeedState.DONE, NeedState.RATED),
            "can_take": need_can_be_taken(n, today),
            "taker": public(taker_name(p, public=True)) if p else "",
        })
    return out


# ---- counts for the annual records ----

def _year_range(year: int):
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    return start, end


def member_project_summary(person_ids, year: int) -> dict[int, dict]:
    """Per person: projects they finished as a taker in `year`, their hours and the average rating
    (None when nothing was rated). Used by the volunteering year-end member record."""
    start, end = _year_range(year)
    ids = list(person_ids)
    out = {pid: {"projects": 0, "hours": Decimal("0.0"), "avg_rating": None} for pid in ids}
    rows = (Project.objects.filter(taker_person_id__in=ids, state=ProjectState.DONE, done_at__gte=start,
                                   done_at__lt=end)
            .values("taker_person_id").annotate(n=Count("pk"), h=Sum("hours")))
    for r in rows:
        out[r["taker_person_id"]].update(projects=r["n"], hours=r["h"] or Decimal("0.0"))
    ratings = (Need.objects.filter(links__live=True, links__project__taker_person_id__in=ids,
                                   links__project__state=ProjectState.DONE, links__project__done_at__gte=start,
                                   links__project__done_at__lt=end, rating__isnull=False)
               .values("links__project__taker_person_id").annotate(a=Avg("rating")))
    for r in ratings:
        out[r["links__project__taker_person_id"]]["avg_rating"] = round(float(r["a"]), 2)
    return out


def _unit_q(org) -> Q:
    """Projects a unit took itself or through a volunteer team it runs."""
    return Q(taker_organization=org) | Q(taker_team__unit=org)


def unit_record(org, year: int) -> dict:
    """A unit's annual co-building record from the lists: projects taken (created in the year and not
    declined or cancelled) by the unit or a team it runs, done, hours, people, beneficiaries served and
    the average rating."""
    start, end = _year_range(year)
    mine = _unit_q(org)
    taken = Project.objects.filter(mine, state__in=LIVE_PROJECT_STATES, created_at__gte=start, created_at__lt=end)
    done = Project.objects.filter(mine, state=ProjectState.DONE, done_at__gte=start, done_at__lt=end)
    sums = done.aggregate(h=Sum("hours"), p=Sum("people"), b=Sum("beneficiaries_served"))
    avg = Need.objects.filter(links__live=True, links__project__in=done, rating__isnull=False).aggregate(
        a=Avg("rating"))["a"]
    return {
        "organization": org.pk, "name": org.name, "year": year,
        "projects": taken.count(), "done": done.count(),
        "hours": sums["h"] or Decimal("0.0"), "people": sums["p"] or 0, "beneficiaries": sums["b"] or 0,
        "avg_rating": round(float(avg), 2) if avg is not None else None,
        "resources": Resource.objects.filter(organization=org, active=True).count(),
    }


def unit_record_projects(org, year: int):
    start, end = _year_range(year)
    return (Project.objects.filter(_unit_q(org), state__in=LIVE_PROJECT_STATES)
            .filter(Q(created_at__gte=start, created_at__lt=end) | Q(done_at__gte=start, done_at__lt=end))
            .select_related("place").order_by("-created_at"))


def hub_counts(actor) -> dict:
    needs = needs_visible_to(actor)
    return {
        "needs_open": needs.filter(state=NeedState.OPEN).count(),
        "needs_total": needs.count(),
        "wishes_open": needs.filter(state=NeedState.OPEN, kind=NeedKind.MICRO_WISH).count(),
        "projects_live": projects_visible_to(actor).filter(
            state__in=(ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED)).count(),
        "projects_done": projects_visible_to(actor).filter(state=ProjectState.DONE).count(),
        "resources": resources_visible_to(actor).filter(active=True).count(),
        "orders": my_orders(actor).filter(
            state__in=(ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED)).count(),
    }


def dispatch_takers(need: Need) -> dict:
    """Who the community may dispatch a need to (派单), one rule for the page, the picker and the
    check on submit: member units of the need's community (sited in it, member units of its
    committees, or linked to one of its grids), the party members registered there, and its active
    volunteer teams. Querysets, not lists: the picker searches them, the form looks an id up in them."""
    from gongzhi.org.models import UNIT_KINDS, MembershipStatus, Organization, Person
    from gongzhi.volunteering.models import Team

    community = need.place
    of_community = (Q(place_path__startswith=community.path)
                    | Q(member_of__organization__place=community, member_of__status=MembershipStatus.ACTIVE)
                    | Q(grid_links__grid__community=community))
    unit_ids = Organization.objects.filter(of_community, kind__in=UNIT_KINDS).values("pk")
    return {
        "units": Organization.objects.filter(pk__in=unit_ids).select_related("place"),
        "members": Person.objects.filter(registered_community=community, party__isnull=False).select_related(
            "registered_community", "party__home_organization"),
        "teams": Team.objects.filter(community=community, active=True).select_related("community"),
    }
