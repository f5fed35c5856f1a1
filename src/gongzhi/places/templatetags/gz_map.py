"""{% map_config %}: what every map needs from the server, as one JSON data block (read by
static/js/gz_map.js): the tile layer and its attribution (settings), where the map opens for this
user (places.selectors.map_home) and the words of the place search box."""

from django import template
from django.conf import settings
from django.utils.html import json_script
from django.utils.translation import gettext as _

from gongzhi.places.selectors import map_home

register = template.Library()


def map_config_for(user) -> dict:
    return {
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "home": map_home(user),
        "user": getattr(user, "pk", None) or 0,
        "t": {
            "placeholder": _("搜索小区、楼栋、地标或社区（可输入拼音首字母）"),
            "noResults": _("没有找到这个地点。"),
            "loading": _("搜索中…"),
            "failed": _("地点搜索失败，请重试。"),
            "mine": _("我的社区"),
        },
    }


@register.simple_tag(takes_context=True)
def map_config(context):
    request = context.get("request")
    return json_script(map_config_for(getattr(request, "user", None)), "gz-map-config")
