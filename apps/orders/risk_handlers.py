"""What an operator's answer to a held refund request means for the order (risk's review queue)."""

from __future__ import annotations

from apps.core import outbox
from apps.orders.models import Order


@outbox.handler("risk.hold.released")
def refund_request_released(event: outbox.Event) -> None:
    """A released refund request is asked again for the buyer (the hold lets it through)."""
    if event.payload.get("owner") != "orders.refund":
        return
    from apps.orders.services.refunds import order_refund_request

    number = event.payload["reference"]
    user_id = Order.objects.filter(number=number).values_list("user_id", flat=True).first()
    if user_id is not None:
        order_refund_request(number=number, user_id=user_id, reason="released after risk review")
