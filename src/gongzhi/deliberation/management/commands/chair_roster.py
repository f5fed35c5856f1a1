"""Generate (and optionally publish) a joint committee's rotating-chair roster for a year."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gongzhi.core.actors import CommandLineActor
from gongzhi.core.errors import GongzhiError
from gongzhi.deliberation import services
from gongzhi.org.models import Organization


class Command(BaseCommand):
    help = ("Plan the rotating chair of JOINT_COMMITTEE (its id or its exact name) for each month of YEAR: "
            "every active member unit chairs once before any chairs twice, across years; published months "
            "and months already past stay as they are. Prints the roster. Exit code 0 = done, 1 = refused.")

    def add_arguments(self, parser):
        parser.add_argument("committee", help="the joint committee's id or exact name")
        parser.add_argument("year", type=int)
        parser.add_argument("--publish", action="store_true", help="publish the year's months after planning them")
        parser.add_argument("--through", help="with --publish: publish only up to this month (YYYY-MM)")
        parser.add_argument("--today", help="treat this date (YYYY-MM-DD) as today (months before it are kept)")

    def _committee(self, ref: str) -> Organization:
        qs = Organization.objects.filter(kind__in=services.COMMITTEE_KINDS)
        found = list(qs.filter(pk=int(ref))) if ref.isdigit() else list(qs.filter(name=ref)[:2])
        if len(found) != 1:
            raise CommandError(_("找不到该联合党委：%(v)s") % {"v": ref} if not found
                               else _("有多个同名的联合党委，请用编号：%(v)s") % {"v": ref})
        return found[0]

    def handle(self, committee, year, publish=False, through=None, today=None, **opts):
        org = self._committee(committee)
        try:
            as_of = dt.date.fromisoformat(today) if today else None
            last = dt.date.fromisoformat(through + "-01") if through else None
        except ValueError:
            raise CommandError(_("日期格式不正确：%(v)s") % {"v": today or through}) from None
        actor = CommandLineActor()
        try:
            result = services.roster_generate(actor=actor, committee=org, year=year, today=as_of)
            published = services.roster_publish(actor=actor, committee=org, year=year, through=last) if publish else 0
        except GongzhiError as exc:
            raise CommandError(str(exc.message)) from None
        names = dict(Organization.objects.filter(pk__in={u for u in result.assigned.values() if u})
                     .values_list("pk", "name"))
        self.stdout.write(f"{org.name} {year}")
        for month, unit_id in sorted(result.assigned.items()):
            mark = "*" if month in result.changed else " "
            self.stdout.write(f" {mark} {month:%Y-%m}  {names.get(unit_id, _('（无可轮值单位）'))}")
        self.stdout.write(_("已生成：%(c)s 个月有变动，%(k)s 个月保持不变，%(g)s 个月无可轮值单位；已发布 %(p)s 个月。") % {
            "c": len(result.changed), "k": len(result.kept), "g": len(result.gaps), "p": published})
