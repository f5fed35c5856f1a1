"""Export active grids as a GeoJSON FeatureCollection, sorted by code (byte-stable, re-importable)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.core.errors import GongzhiError
from gongzhi.places import geojson_io
from gongzhi.places.models import GridLevel


class Command(BaseCommand):
    help = (
        "Export active grids as a GeoJSON FeatureCollection, one feature per line sorted by code, "
        "so the file diffs cleanly and re-imports with no changes. Writes to stdout unless -o is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=GridLevel.values, help="only grids of this level")
        parser.add_argument(
            "--within", metavar="PLACECODE", help="only grids inside this place (e.g. a street code)"
        )
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    def handle(self, *args, **opts):
        try:
            body = geojson_io.export_grids(level=opts["level"], within=opts["within"])
        except GongzhiError as exc:
            raise CommandError(str(exc.message)) from None
        if opts["output"]:
            try:
                with open(opts["output"], "w", encoding="utf-8", newline="\n") as f:
                    f.write(body)
            except OSError as exc:
                raise CommandError(
                    _("无法写入文件 %(path)s：%(reason)s") % {"path": opts["output"], "reason": exc.strerror}
                ) from None
            # The summary goes to stderr so stdout stays pure GeoJSON when piped.
            self.stderr.write(
                _("已导出 %(n)d 个网格到 %(path)s")
                % {"n": geojson_io.feature_count(body), "path": opts["output"]}
            )
        else:
            self.stdout.write(body, ending="")
