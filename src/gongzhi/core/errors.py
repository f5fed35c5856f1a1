"""One error type for business rules, mapped once to the API's shape and once to page messages."""

from __future__ import annotations

from typing import Any


class GongzhiError(Exception):
    """A rule was broken; `message` is already in the user's language (lazy gettext)."""

    status = 400

    def __init__(self, code: str, message: Any, extra: dict | None = None, status: int | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.extra = extra or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), **self.extra}


class ValidationFailed(GongzhiError):
    status = 400


class NotFound(GongzhiError):
    status = 404


class PermissionDenied(GongzhiError):
    status = 403


class Conflict(GongzhiError):
    status = 409


class TooManyRequests(GongzhiError):
    """A rate limit: `extra["retry_after"]` is the number of seconds to wait (sent as Retry-After)."""

    status = 429
