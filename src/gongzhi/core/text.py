"""Free text as people paste it: control characters out, line breaks and tabs kept.

PostgreSQL refuses NUL in text columns and XML refuses most C0 controls, so text is cleaned once
at the service door instead of failing later in one backend only.
"""

import re

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value)


def checked_text(value, *, field_label, max_len, required=True) -> str:
    """Text from a form or a client, cleaned and trimmed; empty when required, or too long, is a 400
    naming the field (in the user's language)."""
    from django.utils.translation import gettext as _

    from .errors import ValidationFailed

    v = value if isinstance(value, str) else ("" if value is None else str(value))
    v = clean_text(v).strip()
    if required and not v:
        raise ValidationFailed("required", _("请填写%(field)s。") % {"field": field_label})
    if len(v) > max_len:
        raise ValidationFailed("too_long", _("%(field)s不能超过 %(max)d 字（现在 %(n)d 字）。") % {
            "field": field_label, "max": max_len, "n": len(v)})
    return v
