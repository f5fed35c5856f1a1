"""Import member units with their co-building agreements from an .xlsx ledger, all or nothing."""

from django.utils.translation import gettext_lazy as _

from gongzhi.org import excel_io

from ._excel_import import ExcelImportCommand


class Command(ExcelImportCommand):
    help = ("Import member units and their agreements from FILE.xlsx (headers: "
            + ", ".join(excel_io.UNIT_HEADERS) + "). "
            "Every row is checked first; any problem is listed with its row number and nothing is written. "
            "Exit code 0 = imported, 1 = problems (nothing written).")
    what = _("成员单位协议")

    def importer(self, fileobj, **kw):
        return excel_io.import_units(fileobj, **kw)
