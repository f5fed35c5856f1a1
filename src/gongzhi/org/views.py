"""Registry pages: organisation tree, member units, people (masked) and posts, their forms,
Excel imports and ledgers. Thin: parse, call a selector or service, render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError

from . import excel_io, forms, selectors, services
from .models import OrgKind, PostTitle

VIEW, EDIT, EXPORT, UNMASK = "registry.view", "registry.edit", "export.ledger", "person.unmask"


def _params(**values) -> str:
    """The list's filters as a query string, for pager and export links."""
    return urlencode({k: v for k, v in values.items() if v})


def _form_page(request, template: str, form, *, error: GongzhiError | None = None, **context):
    """Re-show a form: 400 for bad input, the error's own status (403, 409 …) for a refused write."""
    if error is not None:
        form.add_error(None, str(error.message))
    status = error.status if error is not None else (400 if form.is_bound else 200)
    return render(request, template, {"form": form, **context}, status=status)


# ---- organisations ----

def _ancestor_paths(path: str) -> list[str]:
    ids = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def _indent(depth: int) -> str:
    # Full-width spaces and a corner: the tree reads without CSS (and under a strict CSP).
    return "\u3000" * (depth - 1) + "└ " if depth > 0 else ""


@login_required
def org_tree(request):
    scopes.require(request.user, VIEW)
    kind = request.GET.get("kind", "")
    kind = kind if kind in OrgKind.values else ""
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.organizations_visible_to(request.user, kind=kind, q=q), 100).get_page(
        request.GET.get("page"))
    # Indent by the ancestors shown on this page (a scoped user's top organisation starts flush);
    # a filtered list is flat. Rows come in path order, so every ancestor precedes its subtree.
    shown = {o.path for o in page}
    rows = [(o, _indent(0 if (kind or q) else sum(a in shown for a in _ancestor_paths(o.path)))) for o in page]
    return render(request, "org/tree.html", {
        "page": page, "rows": rows, "kind": kind, "q": q, "kinds": OrgKind.choices,
        "params": _params(kind=kind, q=q),
        "can_edit": scopes.can(request.user, EDIT), "can_export": scopes.can(request.user, EXPORT),
    })


@login_required
def org_export(request):
    scopes.require(request.user, EXPORT)
    kind = request.GET.get("kind", "")
    return excel_io.organizations_ledger(request.user, kind=kind if kind in OrgKind.values else "",
                                         q=request.GET.get("q", "").strip())


@login_required
def org_detail(request, pk: int):
    scopes.require(request.user, VIEW)
    org = selectors.organization_get_for(request.user, pk)
    return render(request, "org/org_detail.html", {
        "org": org,
        "children": selectors.organizations_visible_to(request.user).filter(parent=org)[:200],
        "memberships": selectors.member_units_of(request.user, org),
        "member_of": selectors.memberships_of_member(request.user, org),
        "expiring": selectors.agreements_expiring_for(request.user, organization=org),
        "reminder_days": settings.AGREEMENT_REMINDER_DAYS,
        "posts": selectors.posts_visible_to(request.user).filter(organization=org),
        "can_edit": scopes.can(request.user, EDIT, org),
        "joinable": org.kind in services.JOINABLE_KINDS,
    })


@login_required
def org_create(request):
    scopes.require(request.user, EDIT)
    context = {"places": selectors.places_editable_by(request.user)}
    if request.method != "POST":
        form = forms.OrganizationForm(user=request.user, initial={"parent": request.GET.get("parent")})
        return _form_page(request, "org/org_form.html", form, **context)
    form = forms.OrganizationForm(request.POST, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/org_form.html", form, **context)
    d = form.cleaned_data
    try:
        org = services.organization_create(actor=request.user, kind=d["kind"], name=d["name"], parent=d["parent"],
                                           place=d["place_code"], credit_code=d["credit_code"])
    except GongzhiError as exc:
        return _form_page(request, "org/org_form.html", form, error=exc, **context)
    messages.success(request, _("已登记组织「%(name)s」。") % {"name": org.name})
    return redirect("org:detail", pk=org.pk)


# ---- member units and agreements ----

def _units_page(request, *, import_form=None, import_result=None, status=200):
    q = request.GET.get("q", "").strip()
    page = Paginator(
        selectors.agreements_visible_to(request.user, q=q).order_by("membership__member__name", "id"), 50
    ).get_page(request.GET.get("page"))
    return render(request, "org/units.html", {
        "page": page, "q": q, "params": _params(q=q),
        "expiring": selectors.agreements_expiring_for(request.user)[:50],
        "reminder_days": settings.AGREEMENT_REMINDER_DAYS,
        "can_edit": scopes.can(request.user, EDIT), "can_export": scopes.can(request.user, EXPORT),
        "import_form": import_form or forms.ImportForm(), "import_result": import_result,
    }, status=status)


@login_required
def units(request):
    scopes.require(request.user, VIEW)
    return _units_page(request)


@login_required
def unit_create(request):
    scopes.require(request.user, EDIT)
    if request.method != "POST":
        form = forms.MemberUnitForm(user=request.user, initial={"organization": request.GET.get("organization")})
        return _form_page(request, "org/unit_form.html", form)
    form = forms.MemberUnitForm(request.POST, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/unit_form.html", form)
    d = form.cleaned_data
    try:
        agreement = services.member_unit_join(
            actor=request.user, organization=d["organization"], unit_name=d["unit_name"], unit_kind=d["unit_kind"],
            credit_code=d["credit_code"], role=d["role"], number=d["number"], starts_on=d["starts_on"],
            ends_on=d["ends_on"], duties=d["duties"], commitments=d["commitments"])
    except GongzhiError as exc:
        return _form_page(request, "org/unit_form.html", form, error=exc)
    messages.success(request, _("「%(unit)s」已加入「%(org)s」，协议编号 %(n)s。") % {
        "unit": d["unit_name"], "org": d["organization"].name, "n": agreement.number})
    return redirect("org:detail", pk=d["organization"].pk)


@login_required
@require_POST
def units_import(request):
    scopes.require(request.user, EDIT)
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _units_page(request, import_form=form, status=400)
    f = form.cleaned_data["file"]
    result = excel_io.import_units(f, actor=request.user, source=f.name)
    return _units_page(request, import_form=form, import_result=result, status=200 if result.ok else 400)


@login_required
def units_template(request):
    scopes.require(request.user, EDIT)
    return excel_io.units_template_response()


@login_required
def units_export(request):
    scopes.require(request.user, EXPORT)
    return excel_io.units_ledger(request.user, q=request.GET.get("q", "").strip())


# ---- people ----

def _people_page(request, *, import_form=None, import_result=None, status=200):
    q = request.GET.get("q", "").strip()
    try:
        after = int(request.GET.get("after") or 0) or None
    except ValueError:
        after = None
    rows, next_after = selectors.keyset_page(selectors.people_visible_to(request.user, q=q), after=after, limit=50)
    return render(request, "org/people.html", {
        "rows": rows, "q": q, "after": after,
        "next_params": _params(q=q, after=next_after) if next_after else "",
        "first_params": _params(q=q), "params": _params(q=q),
        "can_edit": scopes.can(request.user, EDIT), "can_export": scopes.can(request.user, EXPORT),
        "import_form": import_form or forms.ImportForm(), "import_result": import_result,
    }, status=status)


@login_required
def people(request):
    scopes.require(request.user, VIEW)
    return _people_page(request)


def _person_page(request, person, *, unmask_form=None, revealed=None, status=200):
    resp = render(request, "org/person_detail.html", {
        "person": person,
        "party": getattr(person, "party", None),
        "posts": selectors.posts_visible_to(request.user).filter(person=person),
        "can_unmask": scopes.can(request.user, UNMASK, person),
        "can_edit": scopes.can(request.user, EDIT, person),
        "unmask_form": unmask_form,
        "revealed": revealed,
    }, status=status)
    # The page may carry a clear value: keep it out of every cache and the back-button history.
    resp["Cache-Control"] = "no-store"
    return resp


@login_required
def person_detail(request, pk: int):
    scopes.require(request.user, VIEW)
    return _person_page(request, selectors.person_get_for(request.user, pk))


@login_required
@require_POST
def person_unmask(request, pk: int):
    scopes.require(request.user, UNMASK)
    person = selectors.person_get_for(request.user, pk)
    form = forms.UnmaskForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, unmask_form=form, status=400)
    field = form.cleaned_data["field"]
    value = services.person_unmask(actor=request.user, person=person, field=field,
                                   reason=form.cleaned_data["reason"], channel="web")
    label = dict(form.fields["field"].choices)[field]
    return _person_page(request, person, revealed={"field": field, "label": label, "value": value})


@login_required
def person_create(request):
    scopes.require(request.user, EDIT)
    context = {
        "communities": selectors.places_editable_by(request.user, kinds=("community",)),
        "org_names": selectors.organizations_visible_to(request.user).values_list("name", flat=True)[:1000],
    }
    if request.method != "POST":
        return _form_page(request, "org/person_form.html", forms.PersonForm(user=request.user), **context)
    form = forms.PersonForm(request.POST, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/person_form.html", form, **context)
    d = form.cleaned_data
    try:
        person = services.person_create(
            actor=request.user, name=d["name"], phone=d["phone"], id_number=d["id_number"], gender=d["gender"],
            registered_community=d["community_code"], home_organization=d["home_organization"],
            party_status=d["party_status"] or None, joined_on=d["joined_on"])
    except GongzhiError as exc:
        return _form_page(request, "org/person_form.html", form, error=exc, **context)
    messages.success(request, _("已登记人员「%(name)s」。") % {"name": person.name})
    return redirect("org:person", pk=person.pk)


@login_required
@require_POST
def people_import(request):
    scopes.require(request.user, EDIT)
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _people_page(request, import_form=form, status=400)
    f = form.cleaned_data["file"]
    result = excel_io.import_people(f, actor=request.user, source=f.name)
    return _people_page(request, import_form=form, import_result=result, status=200 if result.ok else 400)


@login_required
def people_template(request):
    scopes.require(request.user, EDIT)
    return excel_io.people_template_response()


@login_required
def people_export(request):
    scopes.require(request.user, EXPORT)
    return excel_io.people_ledger(request.user, q=request.GET.get("q", "").strip(),
                                  community=request.GET.get("community", "").strip())


# ---- posts ----

@login_required
def posts(request):
    scopes.require(request.user, VIEW)
    title = request.GET.get("title", "")
    title = title if title in PostTitle.values else ""
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.posts_visible_to(request.user, title=title, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "org/posts.html", {
        "page": page, "title": title, "q": q, "titles": PostTitle.choices, "params": _params(title=title, q=q),
        "can_edit": scopes.can(request.user, EDIT), "can_export": scopes.can(request.user, EXPORT),
    })


@login_required
def post_create(request):
    scopes.require(request.user, EDIT)
    if request.method != "POST":
        form = forms.PostForm(user=request.user, initial={"person": request.GET.get("person"),
                                                          "organization": request.GET.get("organization")})
        return _form_page(request, "org/post_form.html", form)
    form = forms.PostForm(request.POST, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/post_form.html", form)
    d = form.cleaned_data
    try:
        post = services.post_assign(actor=request.user, person=d["person"], title=d["title"],
                                    starts_on=d["starts_on"], ends_on=d["ends_on"], organization=d["organization"],
                                    place=d["place_code"], grid=d["grid_code"])
    except GongzhiError as exc:
        return _form_page(request, "org/post_form.html", form, error=exc)
    messages.success(request, _("已任命 %(name)s 为%(title)s。") % {
        "name": post.person.name, "title": post.get_title_display()})
    return redirect("org:posts")


@login_required
def posts_export(request):
    scopes.require(request.user, EXPORT)
    title = request.GET.get("title", "")
    return excel_io.posts_ledger(request.user, title=title if title in PostTitle.values else "",
                                 q=request.GET.get("q", "").strip())
