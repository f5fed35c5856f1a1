"""Staff entry forms: a hotline call or a visit typed in for a resident, or a grid worker's patrol report.

They type and shape input only. Which sources staff may use, what an assisted entry needs (the
resident's name, consent) and who may enter for which grid are decided by services.appeal_submit.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import AppealForm
from .models import Source
from .services import ASSISTED_SOURCES, STAFF_SOURCES

# The sources the services let staff enter, in the order the Source choices list them.
# Assisted ones (a resident behind them) first.
ENTRY_SOURCES = [s for s in Source if s in ASSISTED_SOURCES] + [s for s in Source if s in STAFF_SOURCES]
# Fields shown only for assisted sources (the resident is the reporter); for patrol and the other
# staff sources the staff member themself is the reporter and these are hidden.
ASSISTED_FIELDS = ("reporter_name", "reporter_phone", "consent_recorded", "anonymous")


class EntryForm(AppealForm):
    source = forms.ChoiceField(label=_("诉求来源"), choices=[(s.value, s.label) for s in ENTRY_SOURCES],
                               widget=forms.RadioSelect)
    reporter_name = forms.CharField(label=_("反映人姓名"), max_length=50, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))
    reporter_phone = forms.CharField(label=_("反映人手机号"), max_length=20, required=False,
                                     help_text=_("可不填；11 位手机号，加密保存，列表中只显示打码后的号码。"),
                                     widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    consent_recorded = forms.BooleanField(
        label=_("已征得同意：反映人同意由我代为录入其姓名和电话，仅用于办理和回访"), required=False)
    address = forms.CharField(
        label=_("地址"), max_length=200, required=False,
        help_text=_("来电人说的地点，如“大修厂小区 3 栋”；在地图上方搜索地点可同时定位并填入。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-testid": "entry-address"}))
    field_order = ["source", "reporter_name", "reporter_phone", "consent_recorded", "anonymous", "category",
                   "urgency", "title", "text", "address", "photos"]

    def __init__(self, *args, default_source: str = Source.HOTLINE, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["anonymous"].label = _("反映人要求匿名（其他工作人员看不到其姓名和电话）")
        self.fields["anonymous"].help_text = _("匿名后，处理诉求的工作人员看不到反映人的姓名和电话，也不能查看完整号码回访；"
                                               "请把问题记录清楚。")
        self.fields["text"].help_text = _("请记下反映人说的时间、地点和问题，最多 2000 字。")
        if not self.is_bound:
            self.initial.setdefault("source", default_source)

    def assisted_fields(self):
        return [self[name] for name in ASSISTED_FIELDS]

    def main_fields(self):
        return [f for f in self if not f.is_hidden and f.name not in ASSISTED_FIELDS and f.name != "source"]


class RevealForm(forms.Form):
    """Read an assisted reporter's name or phone in clear: the reason goes into the audit trail."""

    field = forms.ChoiceField(choices=[("phone", _("手机号")), ("name", _("姓名"))])
    reason = forms.CharField(label=_("查看原因"), max_length=200,
                             error_messages={"required": _("请填写查看原因，它会记入审计日志。")})
