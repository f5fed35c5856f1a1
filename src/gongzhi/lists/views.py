"""Pages of the three lists: the hub, needs (post, list, detail with actions), resources, projects,
my orders as a taker and a unit's annual record; Excel ledgers of each; the public wish wall.

Thin: parse, call a service or selector, render. Action buttons come from the workflow tables
(permissions.need_actions / project_actions), so a page never offers what the service would refuse.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError, NotFound, PermissionDenied
from gongzhi.core.exports import Column, xlsx_response
from gongzhi.org import search as pick_search
from gongzhi.org.models import Organization
from gongzhi.org.picker_widget import PickerSelect
from gongzhi.places.models import Place

from . import permissions, present, selectors, services
from .models import (
    NeedCategory,
    NeedKind,
    NeedSource,
    NeedState,
    ProjectState,
    ProjectVia,
    ResourceKind,
    Skill,
    TakerKind,
    Urgency,
)
from .workflow import NEED_ACTION_LABELS, PROJECT_ACTION_LABELS

PER_PAGE = 30


def _query_string(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("export", None)
    return params.urlencode()


def _choices_ctx() -> dict:
    return {"kinds": NeedKind.choices, "categories": NeedCategory.choices, "skills": Skill.choices,
            "urgencies": Urgency.choices, "sources": NeedSource.choices, "need_states": NeedState.choices,
            "project_states": ProjectState.choices, "resource_kinds": ResourceKind.choices,
            "taker_kinds": TakerKind.choices, "vias": ProjectVia.choices}


# ---- the hub ----

@login_required
def hub(request):
    return render(request, "lists/hub.html", {"counts": selectors.hub_counts(request.user),
                                              "can_dispatch": scopes.can(request.user, "lists.dispatch"),
                                              "units": _record_units(request.user)})


def _record_units(user):
    """Units whose annual record the user may open from the hub (their own, as a liaison)."""
    return permissions.taker_units(user)


# ---- needs ----

NEED_COLUMNS = [
    Column(_("编号"), lambda n: n.number, 20), Column(_("类型"), lambda n: n.get_kind_display(), 10),
    Column(_("标题"), lambda n: n.title, 30), Column(_("类别"), lambda n: n.get_category_display(), 12),
    Column(_("所需服务"), lambda n: n.get_skill_display(), 10), Column(_("受益对象"), lambda n: n.beneficiary, 12),
    Column(_("受益人数"), lambda n: n.beneficiaries_count, 8), Column(_("社区"), lambda n: n.place.name, 14),
    Column(_("网格"), lambda n: n.grid.name if n.grid_id else "", 14),
    Column(_("紧急程度"), lambda n: n.get_urgency_display(), 8),
    Column(_("期望完成日期"), lambda n: n.due_on.isoformat(), 12),
    Column(_("来源"), lambda n: n.get_source_display(), 12), Column(_("来源编号"), lambda n: n.source_ref, 16),
    Column(_("状态"), lambda n: n.get_state_display(), 10), Column(_("评分"), lambda n: n.rating or "", 6),
    Column(_("发布时间"), lambda n: timezone.localtime(n.created_at).strftime("%Y-%m-%d %H:%M"), 18),
]


@login_required
def need_list(request):
    g = request.GET
    base = selectors.needs_visible_to(request.user)
    if g.get("mine"):
        base = base.filter(requester=request.user)
    qs = selectors.filter_needs(base, state=g.get("state", ""), kind=g.get("kind", ""), skill=g.get("skill", ""),
                                category=g.get("category", ""), urgency=g.get("urgency", ""),
                                source=g.get("source", ""), q=g.get("q", "").strip())
    if g.get("export") == "xlsx":
        return xlsx_response(_("需求清单"), NEED_COLUMNS, qs.order_by("-created_at")[:20000])
    page = Paginator(qs, PER_PAGE).get_page(g.get("page"))
    return render(request, "lists/needs.html", {"page": page, "f": g, "qs": _query_string(request),
                                                **_choices_ctx()})


@login_required
def need_new(request):
    person = permissions.person_of(request.user)
    can_record = scopes.can(request.user, "lists.record")
    posted = request.POST if request.method == "POST" else {}
    if request.method == "GET" and can_record and request.GET.get("source"):
        posted = request.GET  # prefilled from a link, e.g. "转入需求清单" on an appeal's page
    error, status = None, 200
    if request.method == "POST":
        source = posted.get("source") if can_record and posted.get("source") else NeedSource.RESIDENT
        try:
            need = services.need_create(
                actor=request.user, kind=posted.get("kind"), title=posted.get("title"),
                description=posted.get("description"), category=posted.get("category"), skill=posted.get("skill"),
                beneficiary=posted.get("beneficiary"), beneficiaries_count=posted.get("beneficiaries_count"),
                place=posted.get("place") or None, urgency=posted.get("urgency"), due_on=posted.get("due_on"),
                source=source, source_ref=posted.get("source_ref", ""))
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已发布，编号 %(number)s。") % {"number": need.number})
            return redirect("lists:need", number=need.number)
    default_place = person.registered_community_id if person else None
    # The community is a searchable picker (any community, by name or pinyin): a city has hundreds.
    place_picker = PickerSelect("community", purpose="public", model=Place).render(
        "place", str(posted.get("place") or default_place or ""), attrs={"id": "id_place"})
    return render(request, "lists/need_new.html", {
        "posted": posted, "error": error, "can_record": can_record, "place_picker": place_picker,
        "default_kind": request.GET.get("kind") or posted.get("kind") or NeedKind.SERVICE,
        **_choices_ctx()}, status=status)


def _need_context(request, need, *, error=None, posted_action=None, posted=None) -> dict:
    allowed = permissions.need_actions(request.user, need)
    actions = [a for a in allowed if a not in ("create", "edit")]
    project = selectors.need_project(need)
    ctx = {"need": need, "actions": actions, "can_edit": "edit" in allowed, "labels": NEED_ACTION_LABELS,
           "project": project,
           "taker_name": selectors.taker_name(project) if project else "", "error": error,
           "posted_action": posted_action, "posted": posted or {},
           "history": need.projects.exclude(pk=getattr(project, "pk", None)).order_by("-created_at"),
           "is_staff": scopes.can(request.user, "lists.view", need),
           "timeline": selectors.need_timeline(need, show_names=scopes.can(request.user, "lists.view", need)),
           "claim_units": permissions.taker_units(request.user) if "claim" in actions else [],
           "claim_self": permissions.can_take_for_person(request.user)}
    return ctx


@login_required
def need_detail(request, number):
    need = services.need_get_for(actor=request.user, number=number)
    return render(request, "lists/need_detail.html", _need_context(request, need))


@login_required
def need_edit(request, number):
    """Change an open need (its requester or list staff): the table's `edit` row decides."""
    need = services.need_get_for(actor=request.user, number=number)
    if "edit" not in permissions.need_actions(request.user, need):
        raise PermissionDenied("forbidden", _("只有提出需求的居民或社区工作人员可以修改待认领的需求。"))
    error, status, posted = None, 200, None
    if request.method == "POST":
        posted = request.POST
        fields = {k: posted.get(k, "") for k in ("title", "description", "category", "skill", "beneficiary",
                                                 "beneficiaries_count", "urgency", "due_on")}
        try:
            services.need_update(actor=request.user, need=need, version=posted.get("version") or None, **fields)
        except GongzhiError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已保存。"))
            return redirect("lists:need", number=need.number)
    v = posted or {"title": need.title, "description": need.description, "category": need.category,
                   "skill": need.skill, "beneficiary": need.beneficiary,
                   "beneficiaries_count": need.beneficiaries_count, "urgency": need.urgency,
                   "due_on": need.due_on.isoformat()}
    return render(request, "lists/need_edit.html", {"need": need, "v": v, "error": error, **_choices_ctx()},
                  status=status)


def _taker_choice(actor, need, value) -> dict:
    """The posted taker ("org:12", "person:7", "team:3") if the dispatch picker would have offered it
    (lists.selectors.dispatch_takers, through org.search); otherwise a clear error. None chosen:
    the service says what to choose."""
    if not (value or "").strip():
        return {}
    group, row = pick_search.pick_one(actor, "taker", value, purpose="dispatch", context=need.number)
    return {{"units": "taker_organization", "members": "taker_person", "teams": "taker_team"}[group]: row}


@login_required
@require_POST
def need_act(request, number, action):
    need = services.need_get_for(actor=request.user, number=number, action=action)
    p, version = request.POST, request.POST.get("version") or None
    try:
        if action == "withdraw":
            services.need_withdraw(actor=request.user, need=need, reason=p.get("reason", ""), version=version)
            done_msg = _("已撤回。")
        elif action == "claim":
            org = p.get("organization") or None
            project = services.need_claim(actor=request.user, need=need, organization=org, version=version)
            messages.success(request, _("认领成功，项目编号 %(n)s。请确认接单。") % {"n": project.number})
            return redirect("lists:project", number=project.number)
        elif action == "dispatch":
            project = services.need_dispatch(actor=request.user, need=need, version=version,
                                             **_taker_choice(request.user, need, p.get("taker")))
            done_msg = _("已派单给 %(t)s（%(n)s）。") % {"t": selectors.taker_name(project), "n": project.number}
        elif action == "rate":
            services.need_rate(actor=request.user, need=need, rating=p.get("rating"), comment=p.get("comment", ""),
                               version=version)
            done_msg = _("感谢您的评价。")
        else:
            raise Http404
    except GongzhiError as exc:
        try:
            need = services.need_get_for(actor=request.user, number=number)
        except NotFound:
            # Taken by someone else meanwhile, so no longer in this taker's list: the refusal alone.
            raise exc from None
        return render(request, "lists/need_detail.html",
                      _need_context(request, need, error=exc.message, posted_action=action, posted=p),
                      status=exc.status)
    messages.success(request, done_msg)
    return redirect("lists:need", number=need.number)


# ---- resources ----

RESOURCE_COLUMNS = [
    Column(_("名称"), lambda r: r.title, 24), Column(_("资源类型"), lambda r: r.get_kind_display(), 10),
    Column(_("服务类别"), lambda r: r.get_skill_display(), 10),
    Column(_("提供方类型"), lambda r: r.get_owner_kind_display(), 10), Column(_("提供方"), lambda r: str(r.owner), 20),
    Column(_("可同时承接数"), lambda r: r.capacity, 10), Column(_("可提供时间"), lambda r: r.availability, 20),
    Column(_("服务区域"), lambda r: "、".join([p.name for p in r.places.all()] + [g.name for g in r.grids.all()]), 30),
    Column(_("有效"), lambda r: _("是") if r.active else _("否"), 6),
]


@login_required
def resource_list(request):
    g = request.GET
    base = selectors.resources_visible_to(request.user)
    if g.get("mine"):
        base = selectors.resources_owned_by(request.user, base)
    qs = selectors.filter_resources(base, kind=g.get("kind", ""), skill=g.get("skill", ""),
                                    owner_kind=g.get("owner_kind", ""), active=g.get("active", "1"),
                                    q=g.get("q", "").strip())
    if g.get("export") == "xlsx":
        return xlsx_response(_("资源清单"), RESOURCE_COLUMNS, qs[:20000])
    page = Paginator(qs, PER_PAGE).get_page(g.get("page"))
    return render(request, "lists/resources.html", {"page": page, "f": g, "qs": _query_string(request),
                                                    **_choices_ctx()})


def _resource_values(resource, posted) -> dict:
    if posted:
        return {k: posted.get(k, "") for k in ("title", "kind", "skill", "description", "capacity", "availability",
                                              "available_from", "available_until", "organization")}
    if resource is None:
        return {"capacity": 1}
    return {"title": resource.title, "kind": resource.kind, "skill": resource.skill,
            "description": resource.description, "capacity": resource.capacity,
            "availability": resource.availability,
            "available_from": resource.available_from.isoformat() if resource.available_from else "",
            "available_until": resource.available_until.isoformat() if resource.available_until else ""}


def _resource_form_ctx(request, resource=None, *, posted=None, error=None) -> dict:
    return {"resource": resource, "v": _resource_values(resource, posted), "error": error,
            "owner_units": permissions.taker_units(request.user),
            "is_member": permissions.person_of(request.user) is not None,
            "selected_places": [str(x) for x in (posted.getlist("places") if posted else
                                                 [p.pk for p in resource.places.all()] if resource else [])],
            **_choices_ctx()}


def _resource_fields(p) -> dict:
    return {k: p.get(k) for k in ("title", "kind", "skill", "description", "capacity", "availability",
                                  "available_from", "available_until")}


@login_required
def resource_new(request):
    if request.method != "POST":
        return render(request, "lists/resource_form.html", _resource_form_ctx(request))
    p = request.POST
    owner = {}
    if p.get("organization", "").isdigit() and len(p["organization"]) < 15:
        owner["organization"] = Organization.objects.filter(pk=p["organization"]).first()
    try:
        r = services.resource_create(actor=request.user, places=p.getlist("places"), **owner,
                                     **_resource_fields(p))
    except GongzhiError as exc:
        return render(request, "lists/resource_form.html", _resource_form_ctx(request, posted=p, error=exc.message),
                      status=exc.status)
    messages.success(request, _("资源「%(t)s」已登记。") % {"t": r.title})
    return redirect(reverse("lists:resources") + "?mine=1")


@login_required
def resource_edit(request, pk):
    resource = services.resource_get_for(actor=request.user, pk=pk)
    if not permissions.can_edit_resource(request.user, resource):
        raise PermissionDenied("forbidden", _("您不能修改该资源。"))
    if request.method != "POST":
        return render(request, "lists/resource_form.html", _resource_form_ctx(request, resource))
    p = request.POST
    try:
        if p.get("deactivate"):
            services.resource_deactivate(actor=request.user, resource=resource, version=p.get("version") or None)
            messages.success(request, _("资源已停用。"))
        else:
            services.resource_update(actor=request.user, resource=resource, version=p.get("version") or None,
                                     places=p.getlist("places"), **_resource_fields(p))
            messages.success(request, _("资源已保存。"))
    except GongzhiError as exc:
        return render(request, "lists/resource_form.html",
                      _resource_form_ctx(request, resource, posted=p, error=exc.message), status=exc.status)
    return redirect(reverse("lists:resources") + "?mine=1")


# ---- projects ----

PROJECT_COLUMNS = [
    Column(_("编号"), lambda p: p.number, 20), Column(_("项目名称"), lambda p: p.title, 28),
    Column(_("来源"), lambda p: p.get_via_display(), 10), Column(_("承接方类型"), lambda p: p.get_taker_kind_display(), 10),
    Column(_("承接方"), lambda p: selectors.taker_name(p), 20), Column(_("社区"), lambda p: p.place.name, 14),
    Column(_("状态"), lambda p: p.get_state_display(), 10),
    Column(_("开始日期"), lambda p: p.starts_on.isoformat() if p.starts_on else "", 12),
    Column(_("结束日期"), lambda p: p.ends_on.isoformat() if p.ends_on else "", 12),
    Column(_("预算（元）"), lambda p: float(p.budget), 10), Column(_("投入人数"), lambda p: p.people, 8),
    Column(_("服务人数"), lambda p: p.beneficiaries_served, 8), Column(_("服务时长"), lambda p: float(p.hours), 8),
    Column(_("成效小结"), lambda p: p.summary, 40),
]


def _project_page(request, base, template, extra=None):
    g = request.GET
    qs = selectors.filter_projects(base, state=g.get("state", ""), via=g.get("via", ""),
                                   taker_kind=g.get("taker_kind", ""), q=g.get("q", "").strip())
    if g.get("export") == "xlsx":
        return xlsx_response(_("项目清单"), PROJECT_COLUMNS, qs[:20000])
    page = Paginator(qs, PER_PAGE).get_page(g.get("page"))
    return render(request, template, {"page": page, "f": g, "qs": _query_string(request), **_choices_ctx(),
                                      **(extra or {})})


@login_required
def project_list(request):
    return _project_page(request, selectors.projects_visible_to(request.user), "lists/projects.html")


@login_required
def my_orders(request):
    return _project_page(request, selectors.my_orders(request.user), "lists/projects.html", {"orders": True})


def _project_context(request, project, *, error=None, posted_action=None, posted=None) -> dict:
    needs = list(project.needs.filter(links__live=True).select_related("place"))
    rateable = [n for n in needs if "rate" in permissions.need_actions(request.user, n)]
    org = project.taker_organization
    record_link = (reverse("lists:unit_record", args=[org.pk])
                   if org is not None and present.can_read_unit_record(request.user, org) else "")
    return {"project": project, "needs": needs, "actions": permissions.project_actions(request.user, project),
            "record_link": record_link,
            "labels": PROJECT_ACTION_LABELS, "taker_name": selectors.taker_name(project), "error": error,
            "posted_action": posted_action, "posted": posted or {}, "rateable": rateable,
            "photos": list(project.photos.all())}


@login_required
def project_detail(request, number):
    project = services.project_get_for(actor=request.user, number=number)
    return render(request, "lists/project_detail.html", _project_context(request, project))


@login_required
@require_POST
def project_act(request, number, action):
    project = services.project_get_for(actor=request.user, number=number)
    p, version = request.POST, request.POST.get("version") or None
    try:
        if action == "accept":
            services.project_accept(actor=request.user, project=project, plan=p.get("plan", ""),
                                    starts_on=p.get("starts_on"), ends_on=p.get("ends_on"), budget=p.get("budget"),
                                    people=p.get("people"), version=version)
        elif action == "decline":
            services.project_decline(actor=request.user, project=project, reason=p.get("reason"), version=version)
        elif action == "cancel":
            services.project_cancel(actor=request.user, project=project, reason=p.get("reason"), version=version)
        elif action == "done":
            services.project_done(actor=request.user, project=project,
                                  beneficiaries_served=p.get("beneficiaries_served"), hours=p.get("hours"),
                                  summary=p.get("summary"), photos=request.FILES.getlist("photos"), version=version)
        elif action == "rate":
            services.project_rate(actor=request.user, project=project, rating=p.get("rating"),
                                  comment=p.get("comment", ""))
        else:
            raise Http404
    except GongzhiError as exc:
        project = services.project_get_for(actor=request.user, number=number)
        return render(request, "lists/project_detail.html",
                      _project_context(request, project, error=exc.message, posted_action=action, posted=p),
                      status=exc.status)
    label = _("评价") if action == "rate" else PROJECT_ACTION_LABELS.get(action, action)
    messages.success(request, _("已%(action)s：%(number)s。") % {"action": label, "number": project.number})
    return redirect("lists:project", number=project.number)


@login_required
def project_photo(request, number, photo_id):
    project = services.project_get_for(actor=request.user, number=number)
    photo = project.photos.filter(pk=photo_id).first() if photo_id < 2**63 else None
    if photo is None:
        raise NotFound("not_found", _("找不到该照片。"))
    resp = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


# ---- a unit's annual record ----

@login_required
def unit_record(request, org_id):
    org = Organization.objects.filter(pk=org_id).first() if org_id < 2**63 else None
    if org is None or not present.can_read_unit_record(request.user, org):
        raise NotFound("not_found", _("找不到该单位。"))
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    record = selectors.unit_record(org, year)
    projects = selectors.unit_record_projects(org, year)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(_("%(org)s%(year)d年共建项目") % {"org": org.name, "year": year}, PROJECT_COLUMNS,
                             projects)
    page = Paginator(projects, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "lists/unit_record.html", {"org": org, "year": year, "record": record, "page": page,
                                                      "qs": f"year={year}"})


# ---- public ----

def wish_wall(request):
    place = None
    code = request.GET.get("place", "").strip()
    if code:
        place = Place.objects.filter(code=code).first()
    cards = selectors.wish_wall(place=place)
    resp = render(request, "lists/wishes.html", {"cards": cards, "place": place,
                                                 "can_claim": permissions.is_taker(request.user),
                                                 "open_count": selectors.wishes_waiting_count(place=place)})
    resp["Cache-Control"] = "private, max-age=60" if request.user.is_authenticated else "public, max-age=60"
    return resp
