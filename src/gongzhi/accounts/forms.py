"""Account forms: they parse the shape of input and resolve codes to rows; the services decide.

Username rules, password strength, duplicates and scope are the services' business: their
GongzhiError comes back to the page as the form's message, so the API and the pages say the same.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import GongzhiError
from gongzhi.org.picker_widget import PickerSelect

from . import services
from .models import Role

SCOPE_KIND_CHOICES = [
    ("place", _("地点")),
    ("grid", _("网格")),
    ("organization", _("组织")),
]
SCOPE_HELP = _("按所选范围类型，输入名称、拼音或首字母，在您的管理范围内搜索。")


class ScopePicker(PickerSelect):
    """The scope of a role: a picker over /api/v1/pick/<place|grid|organization>?for=grant that follows
    the form's scope type (static/js/picker.js, data-follows-kind). Places and grids post their code,
    organisations their id: what accounts.services.scope_node takes."""

    def __init__(self):
        super().__init__("place", purpose="grant", value_field="code", attrs={"data-follows-kind": "scope_kind"})

    def follow(self, kind: str) -> None:
        from gongzhi.org.models import Organization
        from gongzhi.places.models import Grid, Place

        kind = kind if kind in ("place", "grid", "organization") else "place"
        self.kind = kind
        self.value_field = "id" if kind == "organization" else "code"
        self.model = {"place": Place, "grid": Grid}.get(kind, Organization)


def _check(fn, *args):
    """Run a service helper and turn its GongzhiError into a form error."""
    try:
        return fn(*args)
    except GongzhiError as exc:
        raise forms.ValidationError(str(exc.message), code=exc.code) from None


class ScopeMixin:
    """A role and its scope node, named by kind and code (resolved to the row in `cleaned_data["node"]`)."""

    def _follow_scope_kind(self):
        kind = self.data.get(self.add_prefix("scope_kind")) if self.is_bound else None
        self.fields["scope_code"].widget.follow(kind or self.fields["scope_kind"].initial)

    def _clean_scope(self, cleaned):
        role, kind, code = cleaned.get("role"), cleaned.get("scope_kind"), (cleaned.get("scope_code") or "").strip()
        cleaned["node"] = None
        if not role:  # optional on the new-user form; a required field already carries its own error
            return cleaned
        if not code:
            self.add_error("scope_code", _("授予角色须填写范围编码。"))
            return cleaned
        try:
            cleaned["node"] = _check(services.scope_node, kind, code)
        except forms.ValidationError as exc:
            self.add_error("scope_code", exc)
        return cleaned


class UserCreateForm(ScopeMixin, forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               help_text=_("3–30 个字符：小写字母、数字和 _ . -，登录时使用。"))
    full_name = forms.CharField(label=_("姓名"), max_length=150)
    password = forms.CharField(label=_("初始密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("至少 8 位。请当面告知本人。"))
    password2 = forms.CharField(label=_("再次输入密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    person_id = forms.IntegerField(label=_("关联人员"), required=False, min_value=1,
                                   help_text=_("在您的管理范围内搜索，可不选；不选时须授予首个角色。"))
    role = forms.ChoiceField(label=_("首个角色"), required=False,
                             choices=[("", _("（暂不授予）"))] + list(Role.choices))
    scope_kind = forms.ChoiceField(label=_("角色范围类型"), choices=SCOPE_KIND_CHOICES, initial="place")
    scope_code = forms.CharField(label=_("角色范围"), max_length=40, required=False, widget=ScopePicker(),
                                 help_text=SCOPE_HELP)

    def __init__(self, *args, user, **kwargs):
        from gongzhi.org.models import Person

        super().__init__(*args, **kwargs)
        self.actor = user
        self.fields["person_id"].widget = PickerSelect("person", purpose="grant", model=Person)
        self._follow_scope_kind()

    def clean_person_id(self):
        from gongzhi.org.models import Person

        pk = self.cleaned_data.get("person_id")
        if pk is None:
            return None
        person = services.grantable(self.actor, Person).filter(pk=pk).first()  # the picker's scope
        if person is None:
            raise forms.ValidationError(_("人员编号 %(id)s 不存在或不在您的范围内。") % {"id": pk})
        return person

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password2") is not None \
                and cleaned["password"] != cleaned["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return self._clean_scope(cleaned)


class GrantRoleForm(ScopeMixin, forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=[("", _("请选择"))] + list(Role.choices))
    scope_kind = forms.ChoiceField(label=_("范围类型"), choices=SCOPE_KIND_CHOICES, initial="place")
    scope_code = forms.CharField(label=_("范围"), max_length=40, widget=ScopePicker(), help_text=SCOPE_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._follow_scope_kind()

    def clean(self):
        return self._clean_scope(super().clean())


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=80, required=False,
                           help_text=_("写明用途，如「网格巡查 App」，便于日后辨认和撤销。"))
