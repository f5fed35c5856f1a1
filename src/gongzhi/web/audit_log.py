"""The audit trail as auditors read it: readable action names, people's names, filters, Excel export.

One table (`action_label`) names every action code the services write; a code missing from it is shown
as itself, so nothing is ever hidden. Filters are parsed once (`parse_filters`) for the page and the
export alike, and bad input is refused with a message (ValidationFailed → 400), never a 500.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditEntry, PiiAccess

# Above this many rows the export asks for narrower filters rather than building a huge workbook.
EXPORT_MAX_ROWS = 50_000
PAGE_SIZE = 50

# Codes written with a fixed name (services call audit.record(actor, "<object>.<verb>", …)).
STATIC_LABELS = {
    "agreement.create": _("新建共建协议"),
    "agreement.update": _("修改共建协议"),
    "agreement.renew": _("续签共建协议"),
    "agreement.terminate": _("终止共建协议"),
    "agreement.expire": _("共建协议到期"),
    "appeal.photo": _("诉求添加照片"),
    "appeal.reporter_unmask": _("查看诉求人完整信息"),
    "appeals.anonymise": _("诉求个人信息匿名化"),
    "category.seed": _("初始化诉求分类"),
    "demo.seed": _("生成演示数据"),
    "grid.create": _("新建网格"),
    "grid.import": _("导入网格"),
    "hotspot.detect": _("发现诉求热点"),
    "hotspot.convert": _("热点转为诉求（未诉先办）"),
    "hotspot.dismiss": _("忽略诉求热点"),
    "lists.anonymise": _("清单个人信息匿名化"),
    "login.unlock": _("解除登录锁定"),
    "need.create": _("发布需求"),
    "need.update": _("修改需求"),
    "need.withdraw": _("撤回需求"),
    "need.claim": _("认领需求"),
    "need.dispatch": _("需求派单"),
    "need.rate": _("评价需求"),
    "org.import": _("导入组织"),
    "organization.create": _("新建组织"),
    "organization.update": _("修改组织"),
    "person.create": _("新建人员"),
    "person.update": _("修改人员"),
    "person.export": _("导出个人信息"),
    "place.create": _("新建地点"),
    "deliberation.roster_generate": _("生成轮值主席安排"),
    "deliberation.roster_publish": _("发布轮值主席安排"),
    "deliberation.swap_request": _("申请调换轮值月份"),
    "deliberation.swap_accept": _("同意调换轮值月份"),
    "deliberation.swap_decline": _("婉拒调换轮值月份"),
    "deliberation.swap_withdraw": _("撤回调换申请"),
    "deliberation.series_create": _("新建定期议事"),
    "deliberation.series_cancel_one": _("取消一次定期议事"),
    "deliberation.series_move_one": _("改期一次定期议事"),
    "deliberation.series_stop": _("停止定期议事"),
    "deliberation.meeting_create": _("安排会议"),
    "deliberation.meeting_cancel": _("取消会议"),
    "deliberation.feed_token_reset": _("重新生成私人日历地址"),
    "deliberation.agenda_add": _("加入议程"),
    "deliberation.sign_in": _("会议签到"),
    "deliberation.attendance_mark": _("代为登记签到"),
    "deliberation.meeting_hold": _("记录会议纪要"),
    "deliberation.resolution_add": _("登记决议与督办事项"),
    "deliberation.action_done": _("办结督办事项"),
    "deliberation.register_import": _("导入业主名册"),
    "deliberation.proposal_create": _("提出议题"),
    "deliberation.proposal_withdraw": _("撤回议题"),
    "deliberation.proposal_decided": _("公布表决结果"),
    "deliberation.comment_add": _("发表议题意见"),
    "deliberation.comment_hide": _("隐藏议题意见"),
    "deliberation.ballot_cast": _("线上投票"),
    "deliberation.ballot_change": _("修改线上投票"),
    "deliberation.ballot_paper": _("录入纸质选票"),
    "deliberation.recount": _("复核计票"),
    "landmark.create": _("登记地标"),
    "landmark.update": _("修改地标"),
    "landmark.delete": _("删除地标"),
    "post.assign": _("任命职务"),
    "post.update": _("修改职务"),
    "post.end": _("结束职务"),
    "project.create": _("新建项目"),
    "resource.create": _("登记资源"),
    "resource.update": _("修改资源"),
    "resource.deactivate": _("停用资源"),
    "role.assign": _("授予角色"),
    "role.change": _("修改角色"),
    "role.revoke": _("撤销角色"),
    "timebank.credit": _("时间币入账"),
    "timebank.credit_request": _("提交入账申请"),
    "timebank.credit_approved": _("入账申请复核通过"),
    "timebank.credit_declined": _("入账申请被驳回"),
    "timebank.transfer": _("转赠时间币"),
    "timebank.spend": _("用时间币兑换服务"),
    "timebank.reverse": _("冲正"),
    "timebank.family_link": _("登记家庭关系"),
    "timebank.family_unlink": _("解除家庭关系"),
    "token.create": _("签发 API 令牌"),
    "token.revoke": _("吊销 API 令牌"),
    "user.create": _("新建账号"),
    "user.activate": _("启用账号"),
    "volunteering.activity_create": _("新建志愿活动"),
    "volunteering.activity_update": _("修改志愿活动"),
    "volunteering.activity_publish": _("发布志愿活动"),
    "volunteering.activity_capacity": _("修改活动名额"),
    "volunteering.activity_cancel": _("取消志愿活动"),
    "volunteering.activity_finish": _("结束志愿活动"),
    "volunteering.activity_rotate_code": _("更换签到码"),
    "volunteering.signup": _("报名志愿活动"),
    "volunteering.signup_cancel": _("取消报名"),
    "volunteering.signup_promote": _("候补转为正式报名"),
    "volunteering.check_in": _("志愿者签到"),
    "volunteering.check_out": _("志愿者签退"),
    "volunteering.report_submit": _("提交双报到"),
    "volunteering.report_withdraw": _("撤回双报到"),
    "volunteering.report_approved": _("双报到审核通过"),
    "volunteering.report_rejected": _("双报到被退回"),
    "volunteering.team_create": _("新建志愿队伍"),
    "volunteering.team_update": _("修改志愿队伍"),
    "volunteering.team_join": _("加入志愿队伍"),
    "volunteering.team_leave": _("退出志愿队伍"),
}


@lru_cache(maxsize=1)
def _workflow_labels() -> dict:
    """Codes written as "<object>.<workflow action>": named from the workflows' own action labels."""
    from gongzhi.appeals.workflow import ACTION_LABELS, SUMMONS_ACTION_LABELS
    from gongzhi.lists.workflow import NEED_ACTION_LABELS, PROJECT_ACTION_LABELS

    families = [("appeal", pgettext_lazy("audit", "诉求"), ACTION_LABELS),
                ("workorder", pgettext_lazy("audit", "工单"), SUMMONS_ACTION_LABELS),
                ("project", pgettext_lazy("audit", "项目"), PROJECT_ACTION_LABELS),
                ("need", pgettext_lazy("audit", "需求"), NEED_ACTION_LABELS)]
    out = {}
    for prefix, noun, labels in families:
        for action, label in labels.items():
            out[f"{prefix}.{action}"] = format_lazy(_("{obj}：{act}"), obj=noun, act=label)
    return out


def action_table() -> dict:
    """Every known action code → its readable (lazy) name; the fixed names win over composed ones."""
    return {**_workflow_labels(), **STATIC_LABELS}


def action_label(code: str) -> str:
    label = action_table().get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, name) sorted by name in the reader's language, for the filter's select."""
    return sorted(((c, str(lbl)) for c, lbl in action_table().items()), key=lambda p: (p[1], p[0]))


def user_display(user, fallback: str = "") -> str:
    """A person's name when the account is linked to one (with the username to tell namesakes apart),
    else the account's full name or username; `fallback` (the stored actor_name) when there is none."""
    if user is None:  # written by the platform itself (sweeps, seeds) or by an account since removed
        return gettext("系统") if fallback in ("", "system") else fallback
    person = getattr(user, "person", None) if _has_person(user) else None
    name = (person.name if person is not None else "") or user.get_full_name()
    if not name or name == user.username:
        return user.username
    return gettext("%(name)s（%(username)s）") % {"name": name, "username": user.username}


def _has_person(user) -> bool:
    try:
        return user.person is not None
    except Exception:  # RelatedObjectDoesNotExist: no linked person
        return False


# ---- filters ----

_CODE = re.compile(r"^[a-z0-9_.]{1,80}$")


@dataclass
class Filters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    raw: dict = field(default_factory=dict)


def _date(value: str, label) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("bad_date", gettext("%(f)s“%(v)s”不是有效日期，请按 2026-01-31 的格式填写。") % {
            "f": label, "v": value[:40]}) from None


def _text(params, name: str, limit: int = 150) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise ValidationFailed("too_long", gettext("筛选条件过长（最多 %(n)d 个字符）。") % {"n": limit})
    return value


def parse_filters(params, prefix: str = "") -> Filters:
    """Read the filters from a query dict (names optionally prefixed, e.g. "pii_"); bad input raises
    ValidationFailed with a message the page shows."""
    p = prefix
    f = Filters(
        actor=_text(params, p + "actor"), action=_text(params, p + "action", 80),
        object_type=_text(params, p + "object_type", 80), object_id=_text(params, p + "object_id", 64),
        date_from=_date(params.get(p + "from"), gettext("起始日期")),
        date_to=_date(params.get(p + "to"), gettext("截止日期")),
    )
    if f.action and not _CODE.match(f.action):
        raise ValidationFailed("bad_action", gettext("操作编码只能包含小写字母、数字、下划线和点。"))
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise ValidationFailed("bad_range", gettext("起始日期不能晚于截止日期。"))
    f.raw = {k: (params.get(p + k) or "").strip() for k in ("actor", "action", "object_type", "object_id",
                                                           "from", "to")}
    return f


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _date_q(f: Filters, column: str) -> Q:
    q = Q()
    if f.date_from:
        q &= Q(**{f"{column}__gte": _day_start(f.date_from)})
    if f.date_to:  # inclusive: up to the start of the next day
        q &= Q(**{f"{column}__lt": _day_start(f.date_to + dt.timedelta(days=1))})
    return q


def _actor_q(value: str, fk: str, stored: str | None = None) -> Q:
    q = Q(**{f"{fk}__username__iexact": value}) | Q(**{f"{fk}__person__name": value})
    if stored:
        q |= Q(**{f"{stored}__iexact": value})
    return q


def audit_entries(f: Filters) -> QuerySet:
    qs = AuditEntry.objects.select_related("actor__person")
    q = _date_q(f, "at")
    if f.actor:
        q &= _actor_q(f.actor, "actor", "actor_name")
    if f.action:
        # "appeal." (ending in a dot) asks for a whole family; otherwise the exact code.
        q &= Q(action__startswith=f.action) if f.action.endswith(".") else Q(action=f.action)
    if f.object_type:
        q &= Q(object_type=f.object_type)
    if f.object_id:
        q &= Q(object_id=f.object_id)
    return qs.filter(q).order_by("-id")


def pii_accesses(f: Filters) -> QuerySet:
    """The personal-data access log: `actor` is the viewer, `object_id` the person's name or the subject
    (e.g. "诉求 SQ…"), `action` the field read."""
    qs = PiiAccess.objects.select_related("user__person", "person")
    q = _date_q(f, "at")
    if f.actor:
        q &= _actor_q(f.actor, "user")
    if f.action:
        q &= Q(field=f.action)
    if f.object_id:
        q &= Q(person__name=f.object_id) | Q(subject=f.object_id)
    return qs.filter(q).order_by("-id")


def object_types() -> list[str]:
    return list(AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


# ---- export ----

def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def audit_columns():
    from gongzhi.core.exports import Column

    return [
        Column(_("编号"), lambda e: e.id, 10),
        Column(_("时间"), lambda e: _local(e.at), 20),
        Column(_("操作人"), lambda e: user_display(e.actor, e.actor_name), 24),
        Column(_("操作"), lambda e: action_label(e.action), 24),
        Column(_("操作编码"), lambda e: e.action, 24),
        Column(_("对象类型"), lambda e: e.object_type, 20),
        Column(_("对象编号"), lambda e: e.object_id, 14),
        Column(_("哈希"), lambda e: e.hash, 66),
    ]


def pii_columns():
    from gongzhi.core.exports import Column

    return [
        Column(_("时间"), lambda a: _local(a.at), 20),
        Column(_("查看人"), lambda a: user_display(a.user), 24),
        Column(_("被查看人"), lambda a: a.person.name if a.person_id else a.subject, 20),
        Column(_("字段"), lambda a: a.field, 16),
        Column(_("事由"), lambda a: a.reason, 40),
        Column(_("渠道"), lambda a: a.channel, 10),
    ]


def check_export_size(qs: QuerySet) -> None:
    if qs.count() > EXPORT_MAX_ROWS:
        raise ValidationFailed("too_many_rows", gettext(
            "符合条件的记录超过 %(n)d 条，请缩小筛选范围（如日期）后再导出。") % {"n": EXPORT_MAX_ROWS})
