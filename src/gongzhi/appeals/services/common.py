"""What every family of appeal writes shares: the sources each kind of actor may use, limits, and small helpers."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.text import checked_text
from gongzhi.core.transactions import serialised

from ..models import Source, Urgency
from ..workflow import ACTION_LABELS

# Sources and who may use them. Assisted entry: staff type in a resident's call or visit.
PUBLIC_SOURCES = {Source.RESIDENT, Source.API, Source.OPEN311}


ASSISTED_SOURCES = {Source.HOTLINE, Source.VISIT}


STAFF_SOURCES = {Source.PATROL, Source.DELIBERATION, Source.ENTERPRISE}


# Opened by a street officer (from a hotspot warning): the officer owns it at street level.
STREET_SOURCES = {Source.PROACTIVE}


# The choices' values once: `Choices.values` builds a new list on every call, and every submit asks.
URGENCIES = frozenset(Urgency.values)


SOURCES = frozenset(Source.values)


# A submit's field names, translated only when a message names them (not on every submit).
TEXT_LABEL, TITLE_LABEL = gettext_lazy("诉求内容"), gettext_lazy("标题")


ADDRESS_LABEL, ADDRESS_MAX = gettext_lazy("地址"), 200


PHOTO_MAX_BYTES = 5 * 1024 * 1024


PHOTO_MAX_COUNT = 9


REASON_MAX = 500


REDIRECT_MAX = 200


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


KEY_RE = re.compile(r"^[\x21-\x7e]{1,64}$")


def stale_message():
    return _("该诉求已被他人处理，请刷新后查看。")


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _user_or_none(actor):
    return actor if _signed_in(actor) else None


def _serialised(fn, busy_message=None):
    """Run `fn` in a transaction (core.transactions.serialised); `busy_message` names what was busy
    (the default speaks of an appeal)."""
    return serialised(fn, busy_message or _("系统正忙，有人正在处理同一诉求，请稍后重试。"))


def _labels(actions) -> str:
    return "、".join(str(ACTION_LABELS.get(a, a)) for a in actions)


def _ancestors(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/", "/a/b/c/"]: the scope paths that cover it."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


_text = checked_text
