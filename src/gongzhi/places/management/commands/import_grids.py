"""Import grids from a GeoJSON FeatureCollection: all or nothing, every problem listed by line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.places import geojson_io


class Command(BaseCommand):
    help = (
        "Import grids from a GeoJSON FeatureCollection (upsert by grid code). Every problem in the file is "
        "printed, one per line, with its line number; if there is any, nothing is written. "
        "Exit code 0 = imported (or checked with --dry-run), 1 = the file has problems."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a .geojson file (UTF-8)")
        parser.add_argument("--dry-run", action="store_true", help="validate and count only; write nothing")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("无法读取文件 %(path)s：%(reason)s") % {"path": path, "reason": exc.strerror}
            ) from None
        self.stdout.write(
            _("正在检查 %(path)s（%(size)s 字节）……") % {"path": path, "size": f"{len(data):,}"}
        )
        result = geojson_io.import_grids(data, actor=None, filename=path.name, dry_run=opts["dry_run"])
        if result.problems:
            for problem in result.problems:
                self.stderr.write(str(problem))
            self.stderr.write(
                _("共 %(features)d 个要素，发现 %(n)d 个问题，没有写入任何数据。")
                % {"features": result.features, "n": len(result.problems)}
            )
            raise SystemExit(1)
        counts = {"features": result.features, **result.counts()}
        if result.dry_run:
            msg = _(
                "试运行，未写入：共 %(features)d 个要素，将新建 %(created)d 个，更新 %(updated)d 个，%(unchanged)d 个不变。"
            )
        else:
            msg = _(
                "导入完成：共 %(features)d 个要素，新建 %(created)d 个，更新 %(updated)d 个，%(unchanged)d 个不变。"
            )
        self.stdout.write(msg % counts)
