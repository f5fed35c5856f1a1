"""A form widget for the searchable pickers: a <select data-picker> that holds only the chosen row
(never the thousands a city has); static/js/picker.js turns it into a Tom Select over
/api/v1/pick/<kind>. The field itself still validates what is posted (a ModelChoiceField against
its scoped queryset, a code field through its clean method), so the server has the last word."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from . import search


class PickerSelect(forms.Select):
    """`kind` and `purpose` as the pick endpoint takes them; `value_field` is "id" (the row's
    primary key, for model choice and id fields) or "code" (places and grids chosen by code);
    `model` finds the chosen row to show when the field has no queryset."""

    class Media:
        css = {"all": ("vendor/tom-select/tom-select.default.min.css", "css/picker.css")}
        js = ("vendor/tom-select/tom-select.complete.min.js", "js/picker.js")

    def __init__(self, kind: str, *, purpose: str = "registry", value_field: str = "id", model=None, attrs=None):
        super().__init__(attrs)
        self.kind, self.purpose, self.value_field, self.model = kind, purpose, value_field, model

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {}), "data-picker": self.kind, "data-purpose": self.purpose,
                 "data-placeholder": str(_("输入名称、拼音或首字母搜索")), "data-loading": str(_("正在搜索…")),
                 "data-no-results": str(_("没有与之匹配的可选项"))}
        if self.value_field != "id":
            attrs["data-value-field"] = self.value_field
        return super().get_context(name, value, attrs)

    def _chosen_rows(self, values):
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None and self.model is not None:
            queryset = self.model.objects.all()
        if queryset is None or not values:
            return []
        if self.value_field == "code":
            return list(queryset.filter(code__in=[v[:24] for v in values]))
        ids = [int(v) for v in values if v.isdigit() and len(v) < 16]
        return list(queryset.filter(pk__in=ids)) if ids else []

    def optgroups(self, name, value, attrs=None):
        values = [str(v) for v in value if v not in (None, "")]
        empty = getattr(getattr(self.choices, "field", None), "empty_label", None) or "—"
        options = [self.create_option(name, "", empty, not values, 0)]
        for i, row in enumerate(self._chosen_rows(values), 1):
            key = str(row.code if self.value_field == "code" else row.pk)
            item = {**search.describe(row), "value": key}
            option = self.create_option(name, key, item["label"], True, i)
            option["attrs"]["data-data"] = json.dumps(item, ensure_ascii=False)  # what picker.js shows
            options.append(option)
        return [(None, options, 0)]
