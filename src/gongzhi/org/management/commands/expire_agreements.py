"""Mark signed co-building agreements whose term has ended as expired (an idempotent operator job)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.org import services

from ._excel_import import CommandLineActor


class Command(BaseCommand):
    help = ("Mark every signed agreement whose end date has passed as expired. Idempotent: a second run "
            "finds nothing and writes nothing. One audit entry per run that expires anything. "
            "Exit code 0 = done (also when nothing was due).")

    def add_arguments(self, parser):
        parser.add_argument("--today", help="treat this date (YYYY-MM-DD) as today (default: today in Asia/Shanghai)")
        parser.add_argument("--dry-run", action="store_true", help="count and list what would expire, write nothing")
        parser.add_argument("--list", action="store_true", help="print the number of every agreement expired")

    def handle(self, today=None, dry_run=False, list=False, **opts):  # noqa: A002 - the option's name
        as_of = None
        if today:
            try:
                as_of = dt.date.fromisoformat(today)
            except ValueError:
                raise CommandError(_("日期格式不正确，应为 YYYY-MM-DD：%(v)s") % {"v": today}) from None
        result = services.agreements_expire(actor=CommandLineActor(), today=as_of, dry_run=dry_run)
        if list or dry_run:
            for number in result["numbers"]:
                self.stdout.write(f"  {number}")
        if dry_run:
            self.stdout.write(_("试运行：%(n)s 份协议已过期待标记，%(m)s 份仍有效（未写入）。") % {
                "n": result["expired"], "m": result["still_signed"]})
        else:
            self.stdout.write(_("已将 %(n)s 份协议标记为已到期，%(m)s 份仍有效。") % {
                "n": result["expired"], "m": result["still_signed"]})
