"""Import a compound's owners' register (业主名册) from an .xlsx file, all or nothing; it replaces the
compound's register."""

from __future__ import annotations

from types import SimpleNamespace

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.errors import GongzhiError
from gongzhi.deliberation.services import register
from gongzhi.org.management.commands._excel_import import ExcelImportCommand
from gongzhi.places.models import Place, PlaceKind


class Command(ExcelImportCommand):
    help = ("Import the owners' register of compound COMPOUND_CODE from FILE.xlsx (headers: "
            + ", ".join(register.REGISTER_HEADERS) + "); it replaces the compound's register, and is refused "
            "while one of its proposals is being voted on. Every row is checked first; any problem is listed "
            "with its row number and nothing is written. "
            "Exit code 0 = imported, 1 = problems (nothing written).")
    what = gettext_lazy("业主名册")

    def add_arguments(self, parser):
        parser.add_argument("compound", metavar="COMPOUND_CODE", help="the compound's place code (小区代码)")
        super().add_arguments(parser)

    def handle(self, *args, compound=None, **opts):
        place = Place.objects.filter(code=str(compound or "").strip(), kind=PlaceKind.COMPOUND).first()
        if place is None:
            raise CommandError(_("小区 %(code)s 不存在。") % {"code": compound})
        self._compound = place
        self._result = None
        try:
            super().handle(*args, **opts)
        except GongzhiError as exc:  # refused: no permission, a vote open
            raise CommandError(str(exc.message)) from None
        r = self._result
        self.stdout.write(_("%(c)s：%(units)s 套房屋，%(owners)s 位业主（按人数计），专有面积合计 %(area)s 平方米，"
                            "其中开发商未售 %(dev)s 套；新登记 %(new)s 人。") % {
            "c": place.name, "units": r.units, "owners": r.owners, "area": r.total_area,
            "dev": r.developer_units, "new": r.people_created})

    def importer(self, fileobj, *, actor, dry_run, source):
        result = register.import_register(actor=actor, compound=self._compound, fileobj=fileobj,
                                          dry_run=dry_run, source=source)
        self._result = result
        # The shape the shared command body reads: problems as lines, rows checked and written.
        return SimpleNamespace(ok=result.ok, problems=result.messages, rows=result.rows,
                               created=0 if dry_run else result.rows)
