"""Shared body of the Excel import commands: who acts, progress, problems and the exit code."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.core.actors import CommandLineActor  # noqa: F401 - re-exported for the org commands


class ExcelImportCommand(BaseCommand):
    what = ""  # e.g. gettext_lazy("人员")

    def importer(self, fileobj, *, actor, dry_run, source):  # pragma: no cover - overridden
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx file (header row as in the template)")
        parser.add_argument("--user", help="act as this user: their scope limits what may be imported "
                                           "and the audit trail names them (default: the operator, every scope)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, file, user=None, dry_run=False, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件：%(f)s") % {"f": file})
        actor = CommandLineActor()
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("用户 %(u)s 不存在或已停用。") % {"u": user})
        self.stdout.write(_("正在检查 %(f)s …") % {"f": path.name})
        with path.open("rb") as fh:
            result = self.importer(fh, actor=actor, dry_run=dry_run, source=str(path))
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(problem)
            self.stderr.write(_("发现 %(n)s 个问题，未导入任何数据。") % {"n": len(result.problems)})
            raise SystemExit(1)
        if dry_run:
            self.stdout.write(_("检查通过：%(n)s 行%(what)s均可导入（试运行，未写入）。") % {"n": result.rows, "what": self.what})
        else:
            self.stdout.write(_("已导入 %(n)s 行%(what)s。") % {"n": result.created, "what": self.what})
