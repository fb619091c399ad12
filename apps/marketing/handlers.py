"""What marketing does with orders' facts (outbox topics; marketing never reads orders)."""

from __future__ import annotations

from apps.core import outbox
from apps.marketing.channels import commission_accrue, commission_reverse
from apps.marketing.services import order_paid, order_refunded


@outbox.handler("orders.order_paid")
def on_order_paid(event: outbox.Event) -> None:
    fact = event.payload
    order_paid(order_number=fact["number"], user_id=fact["user_id"], lines=fact["lines"])


@outbox.handler("orders.lines_refunded")
def on_lines_refunded(event: outbox.Event) -> None:
    """A full refund gives the coupon and the budget back (a partial refund keeps them)."""
    if event.payload.get("reason") == "order_refunded":
        order_refunded(order_number=event.payload["number"])
    # A channel's commission on those lines goes back (or never accrues), refund by refund.
    commission_reverse(
        order_number=event.payload["number"], line_ids=event.payload["line_ids"], key=str(event.id)
    )


@outbox.handler("orders.order_completed")
def on_order_completed(event: outbox.Event) -> None:
    """The channel that brought a completed order earns its commission."""
    commission_accrue(order_number=event.payload["number"], lines=event.payload["lines"])
