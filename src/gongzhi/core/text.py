"""Free text as people paste it: control characters out, line breaks and tabs kept.

PostgreSQL refuses NUL in text columns and XML refuses most C0 controls, so text is cleaned once
at the service door instead of failing later in one backend only.
"""

import re

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value)
