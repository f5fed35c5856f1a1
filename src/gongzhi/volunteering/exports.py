"""Excel ledgers of volunteering: attendance of an activity, the dual-reporting register, year-end records."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.exports import Column, xlsx_response


def _t(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def attendance_xlsx(activity, signups):
    cols = [
        Column(_("姓名"), lambda s: s.person.name, 12),
        Column(_("状态"), lambda s: s.get_state_display(), 10),
        Column(_("报名时间"), lambda s: _t(s.queued_at), 18),
        Column(_("签到"), lambda s: _t(s.checked_in_at), 18),
        Column(_("签退"), lambda s: _t(s.checked_out_at), 18),
        Column(_("计入时长（小时）"), lambda s: float(s.hours_credited) if s.hours_credited else "", 14),
    ]
    return xlsx_response(_("活动签到台账-%(t)s") % {"t": activity.title}, cols, signups)


def reports_xlsx(reports):
    cols = [
        Column(_("年度"), lambda r: r.year, 8),
        Column(_("类型"), lambda r: r.get_kind_display(), 14),
        Column(_("报到对象"), lambda r: r.subject_name, 24),
        Column(_("报到社区"), lambda r: r.community.name, 14),
        Column(_("服务承诺"), lambda r: r.offer, 30),
        Column(_("状态"), lambda r: r.get_state_display(), 10),
        Column(_("退回理由"), lambda r: r.reason, 24),
        Column(_("提交时间"), lambda r: _t(r.submitted_at), 18),
        Column(_("审核时间"), lambda r: _t(r.decided_at), 18),
    ]
    return xlsx_response(_("双报到台账"), cols, reports.iterator())


def records_xlsx(org, year, rows):
    cols = [
        Column(_("姓名"), lambda r: r["person"].name, 12),
        Column(_("报到社区"), lambda r: r["community"].name, 14),
        Column(_("参加活动（次）"), lambda r: r["activity_count"], 12),
        Column(_("活动时长（小时）"), lambda r: float(r["activity_hours"]), 14),
        Column(_("活动明细"), lambda r: "；".join(
            f"{timezone.localtime(s.activity.starts_at):%m-%d} {s.activity.title}" for s in r["activities"]), 40),
        Column(_("参与项目（个）"), lambda r: r["project_count"], 12),
        Column(_("项目时长（小时）"), lambda r: float(r["project_hours"]), 14),
        Column(_("合计时长（小时）"), lambda r: float(r["total_hours"]), 14),
        Column(_("群众评价（平均）"), lambda r: r["avg_rating"] if r["avg_rating"] is not None else "", 14),
    ]
    return xlsx_response(_("在职党员双报到服务记录-%(o)s-%(y)d") % {"o": org.name, "y": year}, cols, rows)
