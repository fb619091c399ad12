"""What a partner is told when a carrier-billing charge or refund moves, as CloudEvents.

A charge made through CAMARA's API (it has a ``ChargeRequestDetail``) is notified as the
CAMARA documents specify: a CloudEvent 1.0 of the document's type
(``org.camaraproject.carrier-billing.v0.payment-completed`` ...) whose ``data`` is the
document's event body (``paymentId``, ``status`` succeeded/failed, ``description``, and
``paymentDate`` or ``denialReason``), sent to the request's ``sink`` (else the app's callback
URL). Refunds of such a charge are ``org.camaraproject.carrier-billing-refund.v0.refund-*``
events to the refund request's ``sink`` (else the payment's). Charges of the deprecated ``v1``
paths keep their first-release event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.gateway import callbacks
from apps.gateway.models import BillingCharge, ChargeRequestDetail
from apps.payments import selectors as payment_selectors

Status = BillingCharge.Status
PURPOSE = "gateway"  # the payments purpose of charges (billing.PURPOSE)

PAYMENT_EVENTS: dict[str, str] = {
    Status.SUCCEEDED: "org.camaraproject.carrier-billing.v0.payment-completed",
    Status.CANCELLED: "org.camaraproject.carrier-billing.v0.payment-cancelled",
    Status.FAILED: "org.camaraproject.carrier-billing.v0.payment-denied",
}
REFUND_COMPLETED = "org.camaraproject.carrier-billing-refund.v0.refund-completed"
PAYMENT_SOURCE = "/carrier-billing/v0.5/payments"
REFUND_SOURCE = "/carrier-billing-refund/v0.3/refunds"
# The first release's event, for charges of the deprecated v1 paths.
LEGACY_EVENT = "org.carrierhub.carrier-billing.v1.payment-status-changed"
_DESCRIPTIONS: dict[str, str] = {
    Status.SUCCEEDED: "The payment was charged to the phone bill",
    Status.CANCELLED: "The payment was cancelled",
    Status.FAILED: "The payment was denied",
}


@dataclass(frozen=True)
class Event:
    """One notification to send: where, its CloudEvent type and source, and its data."""

    url: str
    event_type: str
    source: str
    data: dict[str, Any]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _camara_request(charge: BillingCharge) -> dict[str, Any] | None:
    detail = ChargeRequestDetail.objects.filter(charge_id=charge.pk).only("request").first()
    return None if detail is None else dict(detail.request)


def charge_event(charge: BillingCharge) -> Event | None:
    """The notification a charge's new state owes, or None when its state is not notified
    (a CAMARA charge only on completion, cancellation and denial)."""
    asked = _camara_request(charge)
    if asked is None:
        data = {"paymentId": charge.pk, "paymentStatus": charge.status,
                "amountFen": charge.amount_fen, "refundedFen": charge.refunded_fen,
                "merchantReference": charge.merchant_reference or None}  # fmt: skip
        return Event(charge.callback_url, LEGACY_EVENT, "carrierhub-gateway", data)
    event_type = PAYMENT_EVENTS.get(charge.status)
    if event_type is None:
        return None
    data = {
        "paymentId": charge.pk,
        "status": "succeeded" if charge.status == Status.SUCCEEDED else "failed",
        "description": _DESCRIPTIONS[charge.status],
    }
    if charge.status == Status.SUCCEEDED:
        data["paymentDate"] = _rfc3339(charge.updated_at)
    if charge.status == Status.FAILED:
        data["denialReason"] = "The carrier refused to charge the phone bill"
    url = asked.get("sink") or charge.callback_url
    return Event(url, event_type, f"{PAYMENT_SOURCE}/{charge.pk}", data)


def refund_event(
    charge: BillingCharge, *, refund_id: str, refund_request: dict[str, Any], at: datetime
) -> Event | None:
    """The notification a completed refund owes: CAMARA's refund event for a CAMARA charge; for
    a v1 charge its payment event, which carries the refunded amount."""
    asked = _camara_request(charge)
    if asked is None:
        return charge_event(charge)
    data = {
        "paymentId": charge.pk,
        "refundId": refund_id,
        "status": "succeeded",
        "description": "The refund was credited to the phone bill",
        "refundDate": _rfc3339(at),
    }
    url = refund_request.get("sink") or asked.get("sink") or charge.callback_url
    return Event(url, REFUND_COMPLETED, f"{REFUND_SOURCE}/{refund_id}", data)


def charge_notify(charge: BillingCharge) -> None:
    """Record the notification the charge's new state owes, if any (in the caller's
    transaction; sent after commit)."""
    _send(charge, charge_event(charge))


def refund_notify(charge: BillingCharge, *, refund_pk: int) -> None:
    """Record the notification a completed refund of the charge owes."""
    refunds = payment_selectors.refunds_for(purpose=PURPOSE, reference=charge.pk)
    refund = next((r for r in refunds if r.id == refund_pk), None)
    if refund is None:  # not this charge's: the payments fact always names its own
        return
    kept = ChargeRequestDetail.objects.filter(charge_id=charge.pk).values_list("refunds", flat=True)
    refund_request = dict((kept.first() or {}).get(refund.public_id) or {})
    event = refund_event(
        charge, refund_id=refund.public_id, refund_request=refund_request, at=timezone.now()
    )
    _send(charge, event)


def _send(charge: BillingCharge, event: Event | None) -> None:
    if event is None:
        return
    callbacks.callback_enqueue(
        app_id=charge.app_id, environment=charge.environment, client_id=charge.client_id,
        url=event.url, event_type=event.event_type, subject=charge.pk, data=event.data,
        source=event.source,
    )  # fmt: skip
