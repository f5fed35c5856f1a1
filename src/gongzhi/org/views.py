"""Registry pages: organisation tree, member units, people (masked) and posts, their forms,
Excel imports and ledgers. Thin: parse, call a selector or service, render.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.core.exports import XLSX_MIME

from . import excel_io, export_io, forms, selectors, services
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
    member_of = list(selectors.memberships_of_member(request.user, org))
    posts = list(selectors.posts_visible_to(request.user).filter(organization=org))
    return render(request, "org/org_detail.html", {
        "org": org,
        "children": selectors.organizations_visible_to(request.user).filter(parent=org)[:200],
        "memberships": selectors.member_units_of(request.user, org),
        "member_of": member_of,
        "editable_member_of": {m.pk for m in member_of if scopes.can(request.user, EDIT, m.organization)},
        "expiring": selectors.agreements_expiring_for(request.user, organization=org),
        "lapsed": selectors.agreements_lapsed_for(request.user, organization=org)[:50],
        "reminder_days": settings.AGREEMENT_REMINDER_DAYS,
        "posts": posts,
        "editable_posts": _editable_posts(request.user, posts),
        "can_edit": scopes.can(request.user, EDIT, org),
        "today": timezone.localdate(),
        "joinable": org.kind in services.JOINABLE_KINDS,
        "here": request.get_full_path(),
    })


@login_required
def org_create(request):
    scopes.require(request.user, EDIT)
    context = {}
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
        "lapsed": selectors.agreements_lapsed_for(request.user)[:50],
        "editable": {a.pk for a in page if scopes.can(request.user, EDIT, a.membership.organization)},
        "here": request.get_full_path(),
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


def _person_page(request, person, *, unmask_form=None, revealed=None, status=200, export_error=None):
    posts = list(selectors.posts_visible_to(request.user).filter(person=person))
    resp = render(request, "org/person_detail.html", {
        "person": person,
        "party": getattr(person, "party", None),
        "posts": posts,
        "editable_posts": _editable_posts(request.user, posts),
        "here": reverse("org:person", args=[person.pk]),
        "today": timezone.localdate(),
        "can_unmask": scopes.can(request.user, UNMASK, person),
        "can_edit": scopes.can(request.user, EDIT, person),
        "unmask_form": unmask_form,
        "revealed": revealed,
        "export_error": export_error,
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
@require_POST
def person_export(request, pk: int):
    """Everything held about the person as a download (PIPL art. 45); logged with its reason."""
    scopes.require(request.user, UNMASK)
    person = selectors.person_get_for(request.user, pk)
    try:
        data = services.person_export(actor=request.user, person=person, reason=request.POST.get("reason", ""),
                                      channel="web")
    except GongzhiError as exc:
        return _person_page(request, person, status=exc.status, export_error=exc.message)
    if request.POST.get("format") == "xlsx":
        resp = HttpResponse(export_io.person_xlsx(data), content_type=XLSX_MIME)
        resp["Content-Disposition"] = f'attachment; filename="person-{person.pk}.xlsx"'
    else:
        resp = HttpResponse(export_io.person_json(data), content_type="application/json; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    resp["Cache-Control"] = "no-store"
    return resp


@login_required
def person_create(request):
    scopes.require(request.user, EDIT)
    context = {}
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
        "editable_posts": _editable_posts(request.user, page), "here": request.get_full_path(),
        "today": timezone.localdate(),
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


# ---- edits ----
#
# Each edit page: 403 without registry.edit anywhere, 404 for a record outside the user's view scope
# (ids leak nothing), 403 for one they may see but not edit. The form is pre-filled and carries the
# record's version; an error re-shows the form with the message (409 for a stale version) and
# changes nothing; success redirects back with a message.

def _editable_posts(user, posts) -> set[int]:
    """Ids of the posts the user may edit (the rows that get 编辑 and 卸任 buttons)."""
    return {p.pk for p in posts if scopes.can(user, EDIT, p)}


def _next_url(request, default: str) -> str:
    """Back to the page the edit was started from, if it is one of ours."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return default


def _saved(request, before_version: int, after, message: str) -> None:
    if after.version == before_version:
        messages.info(request, _("没有修改任何内容。"))
    else:
        messages.success(request, message)


def _keep_or(value, clear: bool):
    """A PII field on the edit form: blank keeps the stored number, the tick box removes it."""
    if clear:
        return ""
    return value or services.KEEP


@login_required
def person_edit(request, pk: int):
    scopes.require(request.user, EDIT)
    person = selectors.person_get_for(request.user, pk)
    scopes.require(request.user, EDIT, person)
    context = {
        "person": person,
    }
    if request.method != "POST":
        form = forms.PersonEditForm(person=person, user=request.user)
        return _form_page(request, "org/person_edit.html", form, **context)
    form = forms.PersonEditForm(request.POST, person=person, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/person_edit.html", form, **context)
    d = form.cleaned_data
    try:
        updated = services.person_update(
            actor=request.user, person=person, version=d["version"], name=d["name"], gender=d["gender"],
            phone=_keep_or(d["phone"], d["clear_phone"]), id_number=_keep_or(d["id_number"], d["clear_id_number"]),
            registered_community=d["community_code"], party_status=d["party_status"] or None,
            home_organization=d["home_organization"], joined_on=d["joined_on"])
    except GongzhiError as exc:
        return _form_page(request, "org/person_edit.html", form, error=exc, **context)
    _saved(request, person.version, updated, _("已保存「%(name)s」的修改。") % {"name": updated.name})
    return redirect("org:person", pk=person.pk)


@login_required
def org_edit(request, pk: int):
    scopes.require(request.user, EDIT)
    org = selectors.organization_get_for(request.user, pk)
    scopes.require(request.user, EDIT, org)
    context = {"org": org}
    if request.method != "POST":
        form = forms.OrganizationEditForm(organization=org, user=request.user)
        return _form_page(request, "org/org_edit.html", form, **context)
    form = forms.OrganizationEditForm(request.POST, organization=org, user=request.user)
    if not form.is_valid():
        return _form_page(request, "org/org_edit.html", form, **context)
    d = form.cleaned_data
    try:
        updated = services.organization_update(
            actor=request.user, organization=org, version=d["version"], name=d["name"], kind=d["kind"],
            parent=d["parent"], place=d["place_code"], credit_code=d["credit_code"])
    except GongzhiError as exc:
        return _form_page(request, "org/org_edit.html", form, error=exc, **context)
    _saved(request, org.version, updated, _("已保存组织「%(name)s」的修改。") % {"name": updated.name})
    return redirect("org:detail", pk=org.pk)


def _agreement_for_edit(request, pk: int):
    scopes.require(request.user, EDIT)
    agreement = selectors.agreement_get_for(request.user, pk)
    scopes.require(request.user, EDIT, agreement.membership.organization)
    return agreement


def _agreement_form_view(request, pk: int, *, form_class, heading: str, run, done: str):
    """The three agreement doors share one shape: fetch, form, service, message, back."""
    agreement = _agreement_for_edit(request, pk)
    back = _next_url(request, reverse("org:detail", args=[agreement.membership.organization_id]))
    context = {"agreement": agreement, "heading": heading, "next": back,
               "renew_starts": agreement.ends_on + dt.timedelta(days=1) if form_class is forms.AgreementRenewForm
               else None}
    if request.method != "POST":
        return _form_page(request, "org/agreement_form.html", form_class(agreement=agreement), **context)
    form = form_class(request.POST, agreement=agreement)
    if not form.is_valid():
        return _form_page(request, "org/agreement_form.html", form, **context)
    try:
        result = run(agreement, form.cleaned_data)
    except GongzhiError as exc:
        return _form_page(request, "org/agreement_form.html", form, error=exc, **context)
    if result.pk == agreement.pk:
        _saved(request, agreement.version, result, done % {"n": result.number})
    else:
        messages.success(request, done % {"n": result.number})
    return redirect(back)


@login_required
def agreement_edit(request, pk: int):
    return _agreement_form_view(
        request, pk, form_class=forms.AgreementEditForm, heading=_("修改共建协议"), done=_("已保存协议 %(n)s 的修改。"),
        run=lambda a, d: services.agreement_update(
            actor=request.user, agreement=a, version=d["version"], starts_on=d["starts_on"], ends_on=d["ends_on"],
            duties=d["duties"], commitments=d["commitments"]))


@login_required
def agreement_terminate(request, pk: int):
    return _agreement_form_view(
        request, pk, form_class=forms.AgreementTerminateForm, heading=_("终止共建协议"), done=_("协议 %(n)s 已终止。"),
        run=lambda a, d: services.agreement_terminate(actor=request.user, agreement=a, version=d["version"],
                                                      reason=d["reason"]))


@login_required
def agreement_renew(request, pk: int):
    return _agreement_form_view(
        request, pk, form_class=forms.AgreementRenewForm, heading=_("续签共建协议"), done=_("已续签，新协议编号 %(n)s。"),
        run=lambda a, d: services.agreement_renew(
            actor=request.user, agreement=a, version=d["version"], number=d["number"], ends_on=d["ends_on"],
            duties=d["duties"], commitments=d["commitments"]))


def _post_form_view(request, pk: int, *, form_class, heading: str, run, done: str):
    scopes.require(request.user, EDIT)
    post = selectors.post_get_for(request.user, pk)
    scopes.require(request.user, EDIT, post)
    back = _next_url(request, reverse("org:posts"))
    context = {"post": post, "heading": heading, "next": back}
    if request.method != "POST":
        return _form_page(request, "org/post_edit.html", form_class(post=post), **context)
    form = form_class(request.POST, post=post)
    if not form.is_valid():
        return _form_page(request, "org/post_edit.html", form, **context)
    try:
        updated = run(post, form.cleaned_data)
    except GongzhiError as exc:
        return _form_page(request, "org/post_edit.html", form, error=exc, **context)
    _saved(request, post.version, updated, done % {"name": post.person.name, "title": post.get_title_display()})
    return redirect(back)


@login_required
def post_edit(request, pk: int):
    return _post_form_view(
        request, pk, form_class=forms.PostEditForm, heading=_("修改任期"), done=_("已修改 %(name)s 的%(title)s任期。"),
        run=lambda p, d: services.post_update(actor=request.user, post=p, version=d["version"],
                                              starts_on=d["starts_on"], ends_on=d["ends_on"]))


@login_required
def post_end(request, pk: int):
    return _post_form_view(
        request, pk, form_class=forms.PostEndForm, heading=_("卸任"), done=_("%(name)s 已卸任%(title)s。"),
        run=lambda p, d: services.post_end(actor=request.user, post=p, version=d["version"], ends_on=d["ends_on"]))
