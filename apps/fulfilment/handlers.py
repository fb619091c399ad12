"""What fulfilment does with the facts orders and fulfilment itself publish (outbox topics).

Each handler runs in its own transaction with the outbox's receipt, so a redelivered event
does nothing twice; each is also idempotent by the state it finds (a delivery already moved
is left alone). No handler calls out: work for the carrier is enqueued on commit.
"""

from __future__ import annotations

import logging

from django.db import transaction

from apps.core import outbox
from apps.fulfilment.cards.sales import cards_void_for_lines
from apps.fulfilment.locks import deliveries_lock_lines, deliveries_lock_order
from apps.fulfilment.models import Delivery
from apps.fulfilment.services import deliveries_create, delivery_move, gift_delivery_create
from apps.orders.services import order_delivery_settled

logger = logging.getLogger(__name__)
Status = Delivery.Status
Kind = Delivery.Kind


@outbox.handler("orders.order_paid")
def order_paid(event: outbox.Event) -> None:
    """One delivery per line of the paid order, each started by its kind's handler."""
    fact = event.payload
    deliveries_create(
        number=fact["number"], user_id=fact["user_id"], lines=fact["lines"],
        shipping=fact.get("shipping") or {},
    )  # fmt: skip


@outbox.handler("orders.refund_requested")
def refund_requested(event: outbox.Event) -> None:
    """Hold the lines whose money the buyer asked back before they start: a pending delivery
    fails (``REFUND_REQUESTED``) without an automatic refund (finance decides; an operator may
    deliver it again if finance rejects). A delivery already under way is left to finish."""
    for delivery in deliveries_lock_lines(line_ids=event.payload["line_ids"]):
        if delivery.status == Status.PENDING and delivery.kind not in (Kind.PHYSICAL, Kind.SIM):
            delivery_move(delivery, Status.FAILED, note="REFUND_REQUESTED")
            delivery.last_error = "REFUND_REQUESTED"
            delivery.save(update_fields=["status", "last_error", "updated_at"])


@outbox.handler("orders.lines_refunded")
def lines_refunded(event: outbox.Event) -> None:
    """The money of these lines went back: what was not delivered is stopped for good, what was
    delivered is marked refunded (an operator's override or a received return, which orders
    audited), and unredeemed cards of those lines are voided. A line still delivering keeps
    going (its outcome is recorded; finance sees it)."""
    fact = event.payload
    for delivery in deliveries_lock_lines(line_ids=fact["line_ids"]):
        if delivery.status == Status.DELIVERING:
            logger.warning("line %s refunded while delivering", delivery.line_id)
            continue
        if delivery.can_move_to(Status.REFUNDED):
            delivery_move(delivery, Status.REFUNDED, note=str(fact.get("reason", "")), amount_fen=0)
            delivery.save(update_fields=["status", "updated_at"])
    cards_void_for_lines(order_number=fact["number"], line_ids=fact["line_ids"])


@outbox.handler("fulfilment.delivery_ended")
def delivery_ended(event: outbox.Event) -> None:
    """When every line of the order has ended (delivered or refunded), tell orders once
    (``order_delivery_settled`` records it and ignores repeats). Locks the order's deliveries
    in pk order, so two lines ending together settle the order once."""
    number = event.payload["number"]
    with transaction.atomic():
        # A campaign's gift (negative line id) is no line of the order and does not hold it.
        rows = [row for row in deliveries_lock_order(order_number=number) if row.line_id > 0]
        if rows and all(row.status in Delivery.ENDED for row in rows):
            order_delivery_settled(number=number, lines={row.line_id: row.status for row in rows})


@outbox.handler("marketing.gift_granted")
def gift_granted(event: outbox.Event) -> None:
    """A campaign gives the buyer of a paid order a data pack: deliver it to the buyer's number
    (once: the delivery's line id is ``-<redemption id>``)."""
    fact = event.payload
    gift_delivery_create(
        number=fact["number"], user_id=int(fact["user_id"]),
        redemption_id=int(fact["redemption_id"]), sku_id=int(fact["sku_id"]),
        label=f"{fact.get('campaign') or ''} 赠品".strip()[:128],
    )  # fmt: skip


@outbox.handler("marketing.gift_voided")
def gift_voided(event: outbox.Event) -> None:
    """The order was refunded in full: a gift not sent yet (waiting, or failed and held) is
    voided; one under way or delivered stays given (the carrier cannot take a pack back)."""
    line_id = -int(event.payload["redemption_id"])
    for delivery in deliveries_lock_lines(line_ids=[line_id]):
        if delivery.status in (Status.PENDING, Status.FAILED):
            delivery_move(delivery, Status.REFUNDED, note="ORDER_REFUNDED", amount_fen=0)
            delivery.save(update_fields=["status", "updated_at"])
        else:
            logger.info("gift %s of order %s stays %s", line_id, delivery.order_number,
                        delivery.status)  # fmt: skip
