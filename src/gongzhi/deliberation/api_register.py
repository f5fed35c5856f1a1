"""The owners' register endpoints (业主名册) of the JSON API: a compound's register (figures and units with
their owners' names), its import from Excel (all or nothing, or a dry run), the import template.
Same service and permissions as the pages: read with deliberation.view, import with deliberation.manage."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import File, Form, Router
from ninja.files import UploadedFile

from gongzhi.accounts.authentication import AUTH
from gongzhi.core import bounds
from gongzhi.core.errors import ValidationFailed

from .services import register

router = Router(tags=["deliberation"])


def _area(value) -> str:
    return f"{value:.2f}"


def summary_out(summary: dict) -> dict:
    return {**summary, "total_area": _area(summary["total_area"])}


def unit_out(u) -> dict:
    # Names only: the register's phone and ID numbers never leave through the API.
    return {"id": u.id, "building": u.building, "unit_no": u.unit_no, "area": _area(u.area),
            "developer_unsold": u.developer_unsold,
            "owners": [{"person_id": o.person_id, "name": o.person.name, "representative": o.representative}
                       for o in u.owners.all()]}


def import_out(result: register.RegisterImport) -> dict:
    return {"dry_run": result.dry_run, "rows": result.rows, "units": result.units, "owners": result.owners,
            "total_area": _area(result.total_area), "developer_units": result.developer_units,
            "people_matched": result.people_matched, "people_created": result.people_created}


@router.get("/deliberation/register/{compound_id}", auth=AUTH,
            summary="A compound's owners' register (业主名册): figures as the tally counts them, and a page of units")
def register_get(request, compound_id: int, page: int = 1, limit: int = 50):
    compound = register.register_for(request.user, compound_id)
    page, limit = bounds.page_window(page, limit)
    rows = list(register.units_of(compound)[(page - 1) * limit: page * limit + 1])
    return {"compound": {"id": compound.id, "name": compound.name, "code": compound.code},
            "summary": summary_out(register.register_summary(compound)),
            "items": [unit_out(u) for u in rows[:limit]], "page": page, "has_next": len(rows) > limit}


@router.post("/deliberation/register/{compound_id}/import", auth=AUTH,
             summary="Replace the register from an .xlsx file (multipart `file`), all or nothing; "
                     "`dry_run` checks only. 400 lists every problem with its row; 409 while a vote is open")
def register_import(request, compound_id: int, file: File[UploadedFile], dry_run: Form[bool] = False):
    result = register.import_register(actor=request.user, compound=compound_id, fileobj=file, dry_run=dry_run,
                                      source=file.name or "")
    if not result.ok:
        raise ValidationFailed(
            "register_invalid",
            _("发现 %(n)s 个问题，未导入任何数据。") % {"n": len(result.problems)},
            {"problems": [{"row": n, "message": message} for n, message in result.problems]})
    return import_out(result)


@router.get("/deliberation/register/{compound_id}/template.xlsx", auth=AUTH,
            summary="The register's import template (headers and instructions)")
def register_template(request, compound_id: int):
    register.register_for(request.user, compound_id)
    return register.template_response()
