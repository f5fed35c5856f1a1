"""Personal data at rest: Fernet encryption, a keyed hash for lookups, and masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

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
