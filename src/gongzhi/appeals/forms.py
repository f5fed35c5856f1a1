"""Page forms: they type and shape input; the rules live in services (one set for pages and API)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TEXT_MAX, TITLE_MAX, Category, Satisfaction, Urgency


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks their type and size by their bytes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class AppealForm(forms.Form):
    category = forms.ChoiceField(label=_("问题分类"))
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL,
                                widget=forms.RadioSelect)
    title = forms.CharField(label=_("标题"), max_length=TITLE_MAX, required=False,
                            help_text=_("可不填，默认取内容的开头。"))
    text = forms.CharField(label=_("问题描述"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
                           help_text=_("请写清楚时间、地点和问题，最多 2000 字。"))
    lon = forms.CharField(widget=forms.HiddenInput, required=False)
    lat = forms.CharField(widget=forms.HiddenInput, required=False)
    photos = MultipleFileField(label=_("照片"), help_text=_("最多 9 张，每张不超过 5 MB（JPEG、PNG、WebP）。"))
    anonymous = forms.BooleanField(
        label=_("匿名反映（工作人员看不到您的身份，您仍可查看进度和评价）"), required=False,
        help_text=_("匿名后，网格员和其他工作人员看不到您的姓名和账号，也无法联系您核实情况，请把时间、地点和问题写清楚；"
                    "您本人仍可在“我的诉求”中查看进度、补充照片并评价。匿名不影响办理。"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("请选择"))] + [
            (c.code, c.label) for c in Category.objects.filter(active=True).order_by("sort", "id")]
        if not self.is_bound:
            # A fresh key per rendered form: a double tap or a resent POST creates one appeal.
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class RatingChoices:
    RESOLVED = [("1", _("已解决")), ("0", _("未解决"))]
    SATISFACTION = Satisfaction.choices
