"""What can go wrong talking to the carrier, each with its machine-readable code."""

from __future__ import annotations

from typing import Any

from apps.core.errors import DomainError


class CarrierUnavailable(DomainError):
    """Transient: timeout, connection refused or a 5xx after the adapter's retries.

    ``maybe_applied`` says whether a request may have reached the carrier and been applied
    with its answer lost (a timeout or a connection cut after sending, a 5xx other than 503),
    as opposed to refused before it was sent or handled (no connection, a 503, a province
    isolated here): a write that may have been applied must be asked about, by its key,
    before it is given up and its money refunded.
    """

    code = "CARRIER_UNAVAILABLE"
    http_status = 503
    default_message = "The carrier network is not answering; try again shortly."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        maybe_applied: bool = False,
    ):
        super().__init__(message, details=details)
        self.maybe_applied = maybe_applied


class CarrierRejected(DomainError):
    """The carrier answered and refused; ``carrier_code`` is its reason."""

    code = "CARRIER_REJECTED"
    http_status = 422

    def __init__(self, message: str | None = None, *, carrier_code: str = "", http_status: int = 0):
        super().__init__(message, details={"carrier_code": carrier_code} if carrier_code else None)
        self.carrier_code = carrier_code
        self.carrier_http_status = http_status


class SubscriberNotFound(DomainError):
    code = "SUBSCRIBER_NOT_FOUND"
    http_status = 404
    default_message = "This number is not a subscriber of the carrier."


class ProvinceUnavailable(CarrierUnavailable):
    """A provincial BOSS is isolated (its breaker is open or its calls are at their cap): the
    call was not sent. Same code as ``CarrierUnavailable``, as callers handle it the same way
    (retry later under the same key); ``details`` name the province and the reason."""
