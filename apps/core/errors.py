"""The error model: one exception type per domain problem, each with a machine-readable code.

The API maps every ``DomainError`` to ``{"status", "code", "message"}``; pages show ``message``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every expected refusal. Subclasses set ``code`` and ``http_status``."""

    code: ClassVar[str] = "INVALID_ARGUMENT"
    http_status: ClassVar[int] = 400
    default_message: ClassVar[str | Promise] = _("The request was refused.")

    def __init__(
        self, message: str | Promise | None = None, *, details: dict[str, Any] | None = None
    ):
        self.message = str(message or self.default_message)
        self.details = details or {}
        super().__init__(self.message)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.http_status,
            "code": self.code,
            "message": self.message,
        }
        if self.details:
            body["details"] = self.details
        return body


class InvalidArgument(DomainError):
    code = "INVALID_ARGUMENT"
    http_status = 400


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = _("Not found.")


class Conflict(DomainError):
    code = "CONFLICT"
    http_status = 409


class TooManyRequests(DomainError):
    code = "TOO_MANY_REQUESTS"
    http_status = 429

    def __init__(self, message: str | None = None, *, retry_after: int = 0, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    code = "UNAVAILABLE"
    http_status = 503
    default_message = _("A service this request needs is unavailable; try again later.")


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"
    default_message = _("This idempotency key was already used with a different request.")
