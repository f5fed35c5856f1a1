"""Pages of the owners' register (业主名册): the compounds whose register I may read, and one compound's
register (figures, units paginated, import from Excel with a dry run, the template, the export).

Thin: parse, call the register service, render. Problems of an import are listed on the page with
their row numbers; refusals (no permission, a vote open) come back as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import scopes
from gongzhi.core.errors import GongzhiError
from gongzhi.org.forms import ImportForm
from gongzhi.places.models import Place, PlaceKind

from .services import MANAGE, VIEW
from .services import register as service

PAGE_SIZE = 50


@login_required
def register_index(request):
    """The compounds whose register I may read (deliberation.view over them)."""
    q = request.GET.get("q", "").strip()
    qs = scopes.restrict(Place.objects.filter(kind=PlaceKind.COMPOUND), request.user, VIEW).select_related("parent")
    if q:
        qs = qs.filter(name__icontains=q)
    page = Paginator(qs.order_by("path"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "deliberation/register_index.html", {"page": page, "q": q})


def _page(request, compound, *, form=None, result=None, error=None, status=200):
    page = Paginator(service.units_of(compound), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "deliberation/register.html", {
        "compound": compound, "summary": service.register_summary(compound), "page": page,
        "manage": scopes.can(request.user, MANAGE, compound) and not scopes.read_only(request.user),
        "form": form or ImportForm(), "result": result, "error": error,
    }, status=status)


def _refused(request, exc: GongzhiError):
    return render(request, "deliberation/refused.html", {"message": exc.message}, status=exc.status)


@login_required
def register(request, compound_id: int):
    try:
        compound = service.register_for(request.user, compound_id)
    except GongzhiError as exc:
        return _refused(request, exc)
    return _page(request, compound)


@login_required
@require_POST
def register_import(request, compound_id: int):
    try:
        compound = service.register_for(request.user, compound_id)
    except GongzhiError as exc:
        return _refused(request, exc)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, compound, form=form, status=400)
    upload = form.cleaned_data["file"]
    dry_run = request.POST.get("dry_run") == "1"
    try:
        result = service.import_register(actor=request.user, compound=compound, fileobj=upload, dry_run=dry_run,
                                         source=upload.name)
    except GongzhiError as exc:
        return _page(request, compound, form=form, error=exc.message, status=exc.status)
    if not result.ok:
        return _page(request, compound, form=form, result=result, status=400)
    if dry_run:
        return _page(request, compound, form=form, result=result)
    messages.success(request, _("业主名册已导入：%(units)s 套房屋，%(owners)s 位业主（按人数计），专有面积合计 %(area)s 平方米。") % {
        "units": result.units, "owners": result.owners, "area": result.total_area})
    return redirect("deliberation:register", compound_id=compound.pk)


@login_required
def register_template(request, compound_id: int):
    try:
        service.register_for(request.user, compound_id)
    except GongzhiError as exc:
        return _refused(request, exc)
    return service.template_response()


@login_required
def register_export(request, compound_id: int):
    try:
        compound = service.register_for(request.user, compound_id)
    except GongzhiError as exc:
        return _refused(request, exc)
    return service.register_xlsx(compound)
