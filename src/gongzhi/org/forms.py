"""Registry forms: they parse and check the shape of input; the services decide and write.

Field checks that the services already offer as helpers (phone, ID number, community code) run
here so the message sits next to its field; business rules (terms, duplicates, single-holder
posts, permissions) are left to the service call, whose GongzhiError the view shows.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import GongzhiError
from gongzhi.places.models import Grid, Place

from . import search, selectors, services
from .models import UNIT_KINDS, MembershipRole, Organization, OrgKind, PartyStatus, Person, PostTitle
from .picker_widget import PickerSelect

# Member-unit kinds as people think of them: units first, a community committee (joining a street's
# 大工委) last.
UNIT_KIND_ORDER = [k for k in OrgKind if k in UNIT_KINDS and k != OrgKind.COMMUNITY_COMMITTEE] + [
    OrgKind.COMMUNITY_COMMITTEE]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EDIT = "registry.edit"


def _check(fn, value):
    """Run a service check and turn its GongzhiError into a field error."""
    try:
        return fn(value)
    except GongzhiError as exc:
        raise forms.ValidationError(str(exc.message), code=exc.code) from None


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_kind_display()}）"


class OrganizationForm(forms.Form):
    kind = forms.ChoiceField(label=_("组织类型"), choices=OrgKind.choices)
    name = forms.CharField(label=_("组织名称"), max_length=150)
    parent = OrgChoiceField(label=_("上级组织"), queryset=None, required=False, empty_label=_("（无上级）"),
                            widget=PickerSelect("organization", purpose="edit"))
    place_code = forms.CharField(label=_("所在地区划代码"), max_length=24, required=False,
                                 help_text=_("12 位统计用区划代码，如社区 450102001004。"),
                                 widget=PickerSelect("place", purpose="edit", value_field="code", model=Place))
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = selectors.organizations_visible_to(user, action=EDIT).exclude(
            kind__in=UNIT_KINDS - {OrgKind.COMMUNITY_COMMITTEE}
        )

    def clean_place_code(self):
        code = self.cleaned_data["place_code"].strip()
        return _check(selectors.place_by_code, code) if code else None

    def clean_credit_code(self):
        return self.cleaned_data["credit_code"].strip().upper()


class MemberUnitForm(forms.Form):
    organization = OrgChoiceField(label=_("加入的联合党委 / 党建联盟"), queryset=None,
                                  widget=PickerSelect("organization", purpose="edit"))
    unit_name = forms.CharField(label=_("单位名称"), max_length=150)
    unit_kind = forms.ChoiceField(label=_("单位类型"), choices=[(k, OrgKind(k).label) for k in UNIT_KIND_ORDER],
                                  initial=OrgKind.PRIVATE_ENTERPRISE)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    role = forms.ChoiceField(label=_("成员角色"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER_UNIT)
    number = forms.CharField(label=_("协议编号"), max_length=40)
    starts_on = forms.DateField(label=_("协议开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("协议结束日期"), widget=DATE)
    duties = forms.CharField(label=_("职责清单"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("每行一项，或用「；」分隔。"))
    commitments = forms.CharField(label=_("资源承诺"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("每行一项，或用「；」分隔。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = selectors.organizations_visible_to(user, action=EDIT).filter(
            kind__in=services.JOINABLE_KINDS
        )

    def clean_credit_code(self):
        return self.cleaned_data["credit_code"].strip().upper()

    def clean_duties(self):
        return services.split_items(self.cleaned_data["duties"])

    def clean_commitments(self):
        return services.split_items(self.cleaned_data["commitments"])


class PersonForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—"), ("M", _("男")), ("F", _("女"))])
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    community_code = forms.CharField(label=_("登记社区"), max_length=24,
                                     widget=PickerSelect("community", purpose="edit", value_field="code", model=Place))
    party_status = forms.ChoiceField(label=_("党员状态"), required=False,
                                     choices=[("", _("（非党员）")), *PartyStatus.choices])
    # A picker (an id); a name still works (Excel, API, older clients).
    home_organization = forms.CharField(label=_("组织关系所在党组织"), max_length=150, required=False,
                                        widget=PickerSelect("organization", model=Organization))
    joined_on = forms.DateField(label=_("入党日期"), required=False, widget=DATE)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        return _check(services.validate_phone, value) if value else ""

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        return _check(services.validate_id_number, value) if value else ""

    def clean_community_code(self):
        return _check(services.community_by_code, self.cleaned_data["community_code"])

    def clean(self):
        data = super().clean()
        status, home = data.get("party_status"), (data.get("home_organization") or "").strip()
        if home and not status:
            self.add_error("party_status", _("填写了组织关系所在党组织，请同时选择党员状态。"))
        elif status and not home:
            self.add_error("home_organization", _("党员必须填写组织关系所在党组织。"))
        elif status:
            try:
                data["home_organization"] = (
                    search.pick_one(self.user, "organization", home) if home.isdigit() and self.user is not None
                    else services.organization_by_name(home))
            except GongzhiError as exc:
                self.add_error("home_organization", str(exc.message))
        else:
            data["home_organization"] = None
        return data


class PostForm(forms.Form):
    person = forms.IntegerField(label=_("人员"), min_value=1, widget=PickerSelect("person", purpose="edit", model=Person))
    title = forms.ChoiceField(label=_("职务"), choices=PostTitle.choices)
    organization = OrgChoiceField(label=_("范围：组织"), queryset=None, required=False, empty_label="—",
                                  widget=PickerSelect("organization", purpose="edit"))
    place_code = forms.CharField(label=_("范围：地点区划代码"), max_length=24, required=False,
                                 widget=PickerSelect("place", purpose="edit", value_field="code", model=Place))
    grid_code = forms.CharField(label=_("范围：网格编码"), max_length=24, required=False,
                                widget=PickerSelect("grid", purpose="edit", value_field="code", model=Grid))
    starts_on = forms.DateField(label=_("任职开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("任职结束日期"), required=False, widget=DATE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["organization"].queryset = selectors.organizations_visible_to(user, action=EDIT)

    def clean_person(self):
        person = selectors.people_visible_to(self.user, action=EDIT).filter(pk=self.cleaned_data["person"]).first()
        if person is None:
            raise forms.ValidationError(_("人员不存在或不在您的范围内。"), code="no_person")
        return person

    def clean_place_code(self):
        code = self.cleaned_data["place_code"].strip()
        return _check(selectors.place_by_code, code) if code else None

    def clean_grid_code(self):
        code = self.cleaned_data["grid_code"].strip()
        return _check(selectors.grid_by_code, code) if code else None

    def clean(self):
        data = super().clean()
        chosen = [k for k in ("organization", "place_code", "grid_code") if data.get(k)]
        if not self.errors and len(chosen) != 1:
            raise forms.ValidationError(_("请在组织、地点、网格中选择且只选择一个作为职务范围。"), code="one_scope")
        return data


# ---- edit forms ----
#
# Each carries the version of the record as the user saw it (hidden); the service refuses a stale one
# with a 409. A missing version reaches the service as None, which says so in words.

def _version_field():
    return forms.IntegerField(required=False, widget=forms.HiddenInput)


def _lines(items) -> str:
    return "\n".join(items or [])


class PersonEditForm(PersonForm):
    """The person form, pre-filled, except phone and ID number: they are never put into a page in clear.

    Left blank they stay as they are; a new value replaces them; the tick box removes them.
    """

    version = _version_field()
    clear_phone = forms.BooleanField(label=_("删除已登记的手机号"), required=False)
    clear_id_number = forms.BooleanField(label=_("删除已登记的身份证号"), required=False)
    field_order = ["version", "name", "gender", "phone", "clear_phone", "id_number", "clear_id_number",
                   "community_code", "party_status", "home_organization", "joined_on"]

    def __init__(self, *args, person, user=None, **kwargs):
        if not args and "initial" not in kwargs:
            party = getattr(person, "party", None)
            kwargs["initial"] = {
                "version": person.version, "name": person.name, "gender": person.gender,
                "community_code": person.registered_community.code if person.registered_community_id else "",
                "party_status": party.status if party else "",
                "home_organization": party.home_organization_id if party else "",
                "joined_on": party.joined_on if party else None,
            }
        super().__init__(*args, user=user, **kwargs)
        keep = _("留空则不修改（当前：%(masked)s）。")
        self.fields["phone"].help_text = keep % {"masked": person.phone_masked or _("未登记")}
        self.fields["id_number"].help_text = keep % {"masked": person.id_masked or _("未登记")}

    def clean(self):
        data = super().clean()
        for field, clear in (("phone", "clear_phone"), ("id_number", "clear_id_number")):
            if data.get(clear) and data.get(field):
                self.add_error(field, _("填写了新号码就不要同时勾选删除。"))
        return data


class OrganizationEditForm(OrganizationForm):
    version = _version_field()
    field_order = ["version", "kind", "name", "parent", "place_code", "credit_code"]

    def __init__(self, *args, organization: Organization, user, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "version": organization.version, "kind": organization.kind, "name": organization.name,
                "parent": organization.parent_id, "credit_code": organization.credit_code,
                "place_code": organization.place.code if organization.place_id else "",
            }
        super().__init__(*args, user=user, **kwargs)
        # Never under itself or its own subtree; the current parent stays selectable even if it is
        # outside the user's edit scope (keeping it is not a move).
        offered = self.fields["parent"].queryset.exclude(path__startswith=organization.path)
        self.fields["parent"].queryset = Organization.objects.filter(
            Q(pk__in=offered.values("pk")) | Q(pk=organization.parent_id)).order_by("path")


class AgreementEditForm(forms.Form):
    version = _version_field()
    starts_on = forms.DateField(label=_("协议开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("协议结束日期"), widget=DATE)
    duties = forms.CharField(label=_("职责清单"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("每行一项，或用「；」分隔。"))
    commitments = forms.CharField(label=_("资源承诺"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("每行一项，或用「；」分隔。"))

    def __init__(self, *args, agreement, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {"version": agreement.version, "starts_on": agreement.starts_on,
                                 "ends_on": agreement.ends_on, "duties": _lines(agreement.duties),
                                 "commitments": _lines(agreement.commitments)}
        super().__init__(*args, **kwargs)

    def clean_duties(self):
        return services.split_items(self.cleaned_data["duties"])

    def clean_commitments(self):
        return services.split_items(self.cleaned_data["commitments"])


class AgreementTerminateForm(forms.Form):
    version = _version_field()
    reason = forms.CharField(label=_("终止原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写终止协议的原因。")})

    def __init__(self, *args, agreement, **kwargs):
        kwargs.setdefault("initial", {"version": agreement.version})
        super().__init__(*args, **kwargs)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _next_term_end(agreement) -> dt.date:
    """A suggestion for the renewal: as long as the old term (whole years stay whole years)."""
    starts = agreement.ends_on + dt.timedelta(days=1)
    years = starts.year - agreement.starts_on.year
    if years > 0 and _add_years(agreement.starts_on, years) == starts:
        return _add_years(starts, years) - dt.timedelta(days=1)
    return starts + (agreement.ends_on - agreement.starts_on)


class AgreementRenewForm(forms.Form):
    version = _version_field()
    number = forms.CharField(label=_("新协议编号"), max_length=40)
    ends_on = forms.DateField(label=_("新协议结束日期"), widget=DATE)
    duties = forms.CharField(label=_("职责清单"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("已按原协议填好，可修改；每行一项。"))
    commitments = forms.CharField(label=_("资源承诺"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("已按原协议填好，可修改；每行一项。"))

    def __init__(self, *args, agreement, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {"version": agreement.version, "ends_on": _next_term_end(agreement),
                                 "duties": _lines(agreement.duties), "commitments": _lines(agreement.commitments)}
        super().__init__(*args, **kwargs)

    def clean_duties(self):
        return services.split_items(self.cleaned_data["duties"])

    def clean_commitments(self):
        return services.split_items(self.cleaned_data["commitments"])


class PostEditForm(forms.Form):
    version = _version_field()
    starts_on = forms.DateField(label=_("任职开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("任职结束日期"), required=False, widget=DATE, help_text=_("留空表示至今。"))

    def __init__(self, *args, post, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {"version": post.version, "starts_on": post.starts_on, "ends_on": post.ends_on}
        super().__init__(*args, **kwargs)


class PostEndForm(forms.Form):
    version = _version_field()
    ends_on = forms.DateField(label=_("卸任日期"), widget=DATE)

    def __init__(self, *args, post, **kwargs):
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {"version": post.version, "ends_on": timezone.localdate()}
        super().__init__(*args, **kwargs)


class UnmaskForm(forms.Form):
    field = forms.ChoiceField(choices=[("phone", _("手机号")), ("id_number", _("身份证号"))])
    reason = forms.CharField(label=_("查看原因"), max_length=200,
                             error_messages={"required": _("请填写查看原因，它会记入个人信息访问日志。")})


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 文件（可先下载模板）。"), code="bad_file")
        return f
