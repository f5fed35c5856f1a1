"""{% picker %}: a searchable picker in a hand-written form (the Django forms use PickerSelect).

    {% picker "community" "community" purpose="organise" value=posted.community empty=_("请选择") %}

renders <select name=… data-picker=kind data-purpose=…> holding only the empty choice and the chosen
row (never the thousands a city has); other keywords become data- attributes (`follows_community="community"`
→ data-follows-community, see picker.js); static/js/picker.js (include "_picker_assets.html" once per
page) turns it into a Tom Select over /api/v1/pick/<kind>. `by="code"` posts the row's code (places
and grids, as the filters take them) instead of its id. The server checks what is posted, as always.
"""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from gongzhi.org import search

register = template.Library()


def _model(kind):
    from gongzhi.org.models import Organization, Person
    from gongzhi.places.models import Grid, Place
    from gongzhi.volunteering.models import Team

    return {"community": Place, "place": Place, "grid": Grid, "person": Person, "team": Team}.get(kind, Organization)


def _chosen(kind, value, by) -> list:
    values = value if isinstance(value, (list, tuple)) else [value]
    raws = [str(v or "").strip() for v in values][:100]
    raws = [r for r in raws if r and len(r) <= 24 and (by == "code" or r.isdigit())]
    if not raws:
        return []
    rows = _model(kind).objects.filter(**{"code__in" if by == "code" else "pk__in": raws})
    return sorted(rows, key=lambda r: raws.index(str(r.code if by == "code" else r.pk)))


@register.simple_tag
def picker(name, kind, purpose="registry", value="", by="id", empty=None, required=False, testid="", label="",
           multiple=False, **data):
    """`multiple`: several may be chosen (value a list); the form posts each under `name`."""
    rows = _chosen(kind, value, by)
    hint = _("输入名称、拼音或首字母搜索")
    # An optional picker says what leaving it empty means ("全部", "按单位登记的地址"), then how to search.
    placeholder = f"{empty} · {hint}" if empty not in (None, "", "—") else hint
    attrs = {"name": name, "data-picker": kind, "data-purpose": purpose, "data-placeholder": placeholder, "data-loading": _("正在搜索…"),
             "data-no-results": _("没有与之匹配的可选项")}
    if by != "id":
        attrs["data-value-field"] = by
    if testid:
        attrs["data-testid"] = testid
    if label:
        attrs["aria-label"] = label
    attrs.update({f"data-{k.replace('_', '-')}": v for k, v in data.items() if v not in (None, "")})
    options = [] if multiple else [format_html('<option value="">{}</option>', _("请选择") if empty is None else empty)]
    for row in rows if multiple else rows[:1]:
        key = str(row.code if by == "code" else row.pk)
        item = {**search.describe(row), "value": key}
        options.append(format_html('<option value="{}" data-data="{}" selected>{}</option>', key,
                                   json.dumps(item, ensure_ascii=False), item["label"]))
    return format_html("<select {}{}{}>{}</select>",
                       format_html_join(" ", '{}="{}"', attrs.items()), " required" if required else "",
                       " multiple" if multiple else "",
                       format_html_join("", "{}", ((o,) for o in options)))
