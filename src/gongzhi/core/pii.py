"""Personal data at rest: Fernet encryption, a keyed hash for lookups, and masking for display."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.PII_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _fernet(settings.PII_KEY).decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Deterministic keyed hash so we can find or de-duplicate by phone/ID without decrypting."""
    if not value:
        return ""
    key = base64.urlsafe_b64decode(settings.PII_KEY.encode())
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


def mask_id(id_number: str) -> str:
    """450102199001011234 -> 4501**********1234."""
    if not id_number:
        return ""
    if len(id_number) > 8:
        return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]
    return "*" * len(id_number)


def mask_name(name: str) -> str:
    """For pages seen by people outside the scope: 张三丰 -> 张**."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


# ---- personal numbers typed into free text ----
#
# Public and cross-scope output (the wish wall, Open311, public appeal text, public exports) never
# shows a phone or ID number someone typed into a title or a description. The text is read after
# NFKC normalisation (full-width digits, dashes, plus and spaces become ASCII), phone numbers are
# found by libphonenumber's matcher for China, which knows the formats (138-1234-5678,
# +86 138 1234 5678, (0771) 5551234, …), backed by two patterns for numbers the matcher's
# validity check lets through (mobiles in unassigned ranges, landlines with an area code it does not
# know), and ID numbers are 18 characters with the GB 11643 checksum (or a birth date in place, so
# that a mistyped one is masked too) or 15 digits with a birth date, with spaces or dashes allowed
# between the digits.

_DIGITS_NEEDED = 7  # no phone or ID number has fewer digits: text with fewer is returned as it is
# Seven digits or more with at most a couple of separators between them: without such a run there
# is no number to find, and the (slower) matcher is not run (dates, room numbers, amounts).
_DIGIT_RUN = re.compile(r"[0-9](?:[\s\-.()/+]{0,2}[0-9]){6,}")
_SEP = r"[ \-]?"
_ID_CANDIDATE = re.compile(
    rf"(?<![0-9])[0-9](?:{_SEP}[0-9]){{14}}(?:(?:{_SEP}[0-9]){{2}}{_SEP}[0-9Xx])?(?![0-9])")
_MOBILE_CANDIDATE = re.compile(rf"(?<![0-9])(?:(?:\+|00)86{_SEP})?1[3-9][0-9](?:{_SEP}[0-9]){{8}}(?![0-9])")
_LANDLINE_CANDIDATE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86[ \-]?\(?|\(?0)[1-9][0-9]{1,2}\)?[ \-]?[2-9][0-9]{2,3}[ \-]?[0-9]{4}(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(id18: str) -> bool:
    """GB 11643-1999: the 18th character is the check character of the first 17 digits."""
    if len(id18) != 18 or not id18[:17].isascii() or not id18[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(id18[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == id18[17].upper()


def _birth_date_ok(yyyymmdd: str) -> bool:
    try:
        day = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= day.year <= 2100


def _is_id_number(compact: str) -> bool:
    if len(compact) == 18:
        # A mistyped check character still leaves someone's number: a birth date in place is enough.
        return id_checksum_ok(compact) or (compact[:17].isdigit() and _birth_date_ok(compact[6:14]))
    return len(compact) == 15 and compact.isdigit() and _birth_date_ok("19" + compact[6:12])


def _normalised(text: str) -> tuple[str, list[int]]:
    """NFKC of the text, one character at a time, with the original index of each character out."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        out.append(n)
        where.extend([i] * len(n))
    return "".join(out), where


def _national(raw: str) -> str:
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.lstrip().startswith(("+86", "0086")):
        digits = digits[2:] if raw.lstrip().startswith("+") else digits[4:]
        if not digits.startswith("1"):
            digits = "0" + digits  # a landline written internationally reads with its trunk 0
    return digits


def personal_number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, masked) for each phone or ID number in `text`, by positions in `text` itself."""
    if not text or sum(c.isdigit() for c in text) < _DIGITS_NEEDED:
        return []
    norm, where = _normalised(text)
    if not _DIGIT_RUN.search(norm):
        return []
    found: list[tuple[int, int, str]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= fs or s >= fe for fs, fe, _m in found)

    for m in _ID_CANDIDATE.finditer(norm):
        compact = re.sub(r"[ \-]", "", m.group(0))
        if _is_id_number(compact):
            found.append((m.start(), m.end(), mask_id(compact.upper())))
    for m in phonenumbers.PhoneNumberMatcher(norm, "CN", leniency=phonenumbers.Leniency.VALID):
        national = str(m.number.national_number)
        if not national.startswith("1"):
            national = "0" + national
        if free(m.start, m.end):
            found.append((m.start, m.end, mask_phone(national)))
    for pattern in (_MOBILE_CANDIDATE, _LANDLINE_CANDIDATE):
        for m in pattern.finditer(norm):
            if free(m.start(), m.end()):
                found.append((m.start(), m.end(), mask_phone(_national(m.group(0)))))
    return sorted((where[s], where[e - 1] + 1, masked) for s, e, masked in found)


@lru_cache(maxsize=4096)
def _masked(text: str) -> str:
    spans = personal_number_spans(text)
    if not spans:
        return text
    out, last = [], 0
    for start, end, masked in spans:
        if start < last:  # overlapping finds (cannot happen, but never print a number twice)
            continue
        out.append(text[last:start])
        out.append(masked)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_public_text(text: str) -> str:
    """Free text as anyone outside the scope may read it: phone and ID numbers masked (138****5678,
    4501**********1234), everything else as typed. The one function every public or cross-scope
    output uses."""
    if not text:
        return text or ""
    return _masked(text)  # cached: Open311 and the wall show the same texts to every caller
