"""Gateway refusals with CAMARA codes; the capability pipeline maps each to ``{status, code, message}``."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class CapabilityError(Exception):
    """A refusal with an HTTP status, a CAMARA code (``SIM_SWAP.UNKNOWN_PHONE_NUMBER``,
    ``QUOTA_EXCEEDED``...) and a message; capability views raise it from ``perform``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | Promise,
        *,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = str(message)
        self.headers = headers or {}
        self.details = details or {}
        super().__init__(f"{status} {code}: {self.message}")

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def unauthenticated(message: str | Promise | None = None) -> CapabilityError:
    return CapabilityError(
        401,
        "UNAUTHENTICATED",
        message or _("Request not authenticated due to missing, invalid, or expired credentials."),
    )


def permission_denied(message: str | Promise | None = None) -> CapabilityError:
    return CapabilityError(
        403,
        "PERMISSION_DENIED",
        message or _("Client does not have sufficient permissions to perform this action."),
    )


def unavailable(message: str | Promise | None = None) -> CapabilityError:
    return CapabilityError(
        503, "UNAVAILABLE", message or _("Service unavailable; try again later.")
    )


# Errors of the write services (credentials, subscriptions), for the portal and the workbench.


class GatewayStateConflict(Conflict):
    code = "GATEWAY_STATE_CONFLICT"
    default_message = _("That change is not allowed in the current state.")


class CredentialLimitReached(Conflict):
    code = "CREDENTIAL_LIMIT_REACHED"
    default_message = _(
        "This app already has two active credentials in that environment; revoke one first."
    )


class ProductionNotApproved(DomainError):
    code = "PRODUCTION_NOT_APPROVED"
    http_status = 403
    default_message = _("Production credentials need an approved partner and app.")


class CredentialNotFound(NotFound):
    code = "CREDENTIAL_NOT_FOUND"
    default_message = _("No such credential.")


class InvalidAllowlist(InvalidArgument):
    code = "INVALID_IP_ALLOWLIST"
    default_message = _("The IP allow-list has an entry that is not an address or network.")
