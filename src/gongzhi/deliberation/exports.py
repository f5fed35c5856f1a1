"""Excel ledgers (台账) of deliberation: a committee's chair roster for a year."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.exports import Column, xlsx_response


def roster_xlsx(view):
    cols = [
        Column(_("月份"), lambda r: f"{r.month:%Y-%m}", 10),
        Column(_("轮值主席单位"), lambda r: r.term.unit.name if r.term else _("（无可轮值单位）"), 30),
        Column(_("安排方式"), lambda r: r.term.get_source_display() if r.term else "", 12),
        Column(_("状态"), lambda r: (_("已发布") if r.published else _("草案")) if r.term else "", 10),
        Column(_("发布时间"), lambda r: timezone.localtime(r.term.published_at).strftime("%Y-%m-%d %H:%M")
               if r.published else "", 18),
    ]
    return xlsx_response(_("轮值主席安排-%(c)s-%(y)s") % {"c": view.committee.name, "y": view.year}, cols, view.months)


def actions_xlsx(actions):
    cols = [
        Column(_("督办事项"), lambda a: a.title, 30),
        Column(_("决议"), lambda a: a.resolution.text, 30),
        Column(_("会议"), lambda a: a.resolution.meeting.title, 20),
        Column(_("会议时间"), lambda a: timezone.localtime(a.resolution.meeting.starts_at).strftime("%Y-%m-%d %H:%M"), 18),
        Column(_("责任方"), lambda a: a.owner_name, 20),
        Column(_("办结期限"), lambda a: a.due_on.isoformat(), 12),
        Column(_("状态"), lambda a: a.get_state_display(), 10),
        Column(_("办结时间"), lambda a: timezone.localtime(a.done_at).strftime("%Y-%m-%d %H:%M") if a.done_at else "", 18),
        Column(_("办理情况"), lambda a: a.done_note, 30),
    ]
    return xlsx_response(_("督办事项台账"), cols, actions.iterator())


def meetings_xlsx(meetings):
    """台账 of meetings with their attendance: one row per meeting, the attendees' names in one cell."""
    cols = [
        Column(_("开始时间"), lambda m: timezone.localtime(m.starts_at).strftime("%Y-%m-%d %H:%M"), 18),
        Column(_("会议"), lambda m: m.title, 24),
        Column(_("形式"), lambda m: m.get_form_display(), 14),
        Column(_("举办方"), lambda m: m.host.name, 20),
        Column(_("地点"), lambda m: m.location, 20),
        Column(_("状态"), lambda m: m.get_state_display(), 10),
        Column(_("议题数"), lambda m: len(m.agenda.all()), 8),
        Column(_("签到人数"), lambda m: len(m.attendance.all()), 8),
        Column(_("签到人员"), lambda m: "、".join(a.name for a in m.attendance.all()), 40),
        Column(_("决议数"), lambda m: len(m.resolutions.all()), 8),
    ]
    return xlsx_response(_("会议台账"), cols, meetings)
