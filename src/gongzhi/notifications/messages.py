"""Notification text kept as a message code and its parameters, rendered in the reader's language.

A notification is written in the cause's transaction, but read later by someone who may read
English while the actor used Chinese. So the outbox row keeps `message`: for its title and its
body, a list of parts, each a msgid (the Chinese source string, the catalogue's key) and its
parameters. `render()` runs gettext on them in whatever language is active when the row is shown
(the page, the API, the email). Parameters are plain values (numbers, titles, dates, reasons typed
by people: shown as typed), nested messages (a level's or a step's label, translated too), or lists
(joined with the reader's list separator).

    Msg(gettext_noop("您反映的诉求已受理：%(number)s"), number=a.number)
    Msg(gettext_noop("…已上报%(level)s…"), level=Level.STREET.label)   # a lazy label: kept as its msgid
    Msg(gettext_noop("反映人认为问题已解决。")) + Msg(gettext_noop("诉求将重新办理。"))

Rows written before messages existed, or by writers that pass plain text, have no `message`: their
stored text is what is shown.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext

_NESTED = "m"
# The msgid of a person's own words (Msg.verbatim): no catalogue translates it, so gettext keeps it.
VERBATIM = "%(text)s"


def _lazy_msgid(value) -> str | None:
    """The msgid behind a gettext_lazy string (a model choice's label), if that is what it is."""
    args = getattr(value, "_args", None)
    if isinstance(value, Promise) and isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return None


def _param(value):
    if isinstance(value, Msg):
        return {_NESTED: value.parts()}
    if isinstance(value, Promise):
        msgid = _lazy_msgid(value)
        return {_NESTED: [[msgid, {}]]} if msgid is not None else str(value)
    if isinstance(value, (list, tuple)):
        return [_param(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class Msg:
    """One translatable message (or several, concatenated with `+`)."""

    def __init__(self, msgid: str = "", /, **params):
        self._parts = [[str(msgid), {k: _param(v) for k, v in params.items()}]] if msgid else []

    @classmethod
    def verbatim(cls, text) -> Msg:
        """Text typed by a person (a reason, a note): shown as typed in every language."""
        return cls(VERBATIM, text=str(text or "")) if text else cls()

    @classmethod
    def of_parts(cls, parts) -> Msg:
        m = cls()
        m._parts = [[str(p[0]), dict(p[1] or {})] for p in parts or () if p and p[0]]
        return m

    def __add__(self, other) -> Msg:
        if not isinstance(other, Msg):
            return NotImplemented
        return Msg.of_parts(self._parts + other._parts)

    def __bool__(self) -> bool:
        return bool(self._parts)

    def parts(self) -> list:
        return [[m, dict(p)] for m, p in self._parts]

    def render(self) -> str:
        return render_parts(self._parts)

    def __str__(self) -> str:
        return self.render()


def _render_param(value):
    if isinstance(value, dict) and _NESTED in value:
        return render_parts(value[_NESTED])
    if isinstance(value, list):
        # TRANSLATORS: the separator between the items of a list inside a sentence (a list of departments).
        return gettext("、").join(str(_render_param(v)) for v in value)
    return "" if value is None else value


def render_parts(parts) -> str:
    """gettext each part in the active language and fill in its parameters (themselves rendered)."""
    out = []
    for msgid, params in parts or ():
        text = gettext(msgid)
        if params:
            text = text % {k: _render_param(v) for k, v in params.items()}
        out.append(text)
    return "".join(out)


def render_stored(message: dict | None, key: str, fallback: str) -> str:
    """The `key` ("title" or "body") of a stored message in the active language; the stored text
    when there is no message (an older row) or it cannot be rendered (a catalogue that drifted)."""
    parts = (message or {}).get(key)
    if not parts:
        return fallback
    try:
        return render_parts(parts)
    except (KeyError, ValueError, TypeError, IndexError):
        return fallback
