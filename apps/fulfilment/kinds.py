"""How a new delivery starts, by kind: a small registry of handlers (the content app will
register its own for digital goods).

A handler runs in the transaction that creates the delivery (the ``orders.order_paid``
handler's): it may write and publish, never call out. The rule for digital goods until the
``content`` app exists: paying a digital line publishes ``fulfilment.entitlement_requested``
and that hand-off *is* the delivery (delivered at once, ``detail`` says so); content, once it
registers its own ``digital`` handler, may instead keep the line delivering until it grants
the entitlement.
"""

from __future__ import annotations

from collections.abc import Callable

from apps.core import outbox
from apps.fulfilment.models import Delivery

Kind = Delivery.Kind
Starter = Callable[[Delivery], None]
_starters: dict[str, Starter] = {}


def delivery_handler_register(kind: str, start: Starter) -> None:
    """Register (or replace) how deliveries of ``kind`` start."""
    _starters[kind] = start


def delivery_start(delivery: Delivery) -> None:
    """Start a just-created delivery through its kind's handler."""
    _starters[delivery.kind](delivery)


def _by_job(delivery: Delivery) -> None:
    from apps.fulfilment.services import delivery_enqueue

    delivery_enqueue(delivery)


def _cards(delivery: Delivery) -> None:
    from apps.fulfilment.services import card_delivery_start

    card_delivery_start(delivery)


def _wait_for_parcel(delivery: Delivery) -> None:
    """Physical goods and SIM cards move when their parcel does (``shipping.shipments``)."""


def _entitlement(delivery: Delivery) -> None:
    from apps.fulfilment.services import Status, delivery_move

    outbox.publish(
        "fulfilment.entitlement_requested",
        {"delivery_id": delivery.pk, "number": delivery.order_number, "line_id": delivery.line_id,
         "user_id": delivery.user_id, "sku_id": delivery.sku_id, "units": delivery.units,
         "attributes": delivery.attributes, "paid_fen": delivery.refund_fen},
        key=f"entitlement_requested:{delivery.line_id}",
    )  # fmt: skip
    delivery.detail = "entitlement_requested"
    delivery_move(delivery, Status.DELIVERED, note="entitlement_requested")
    delivery.save(update_fields=["status", "detail", "delivered_at", "updated_at"])


for _kind in (Kind.AIRTIME, Kind.DATA_PACK, Kind.PLAN_CHANGE, Kind.ADDON, Kind.POINTS):
    delivery_handler_register(_kind, _by_job)
delivery_handler_register(Kind.CARD, _cards)
delivery_handler_register(Kind.SIM, _wait_for_parcel)
delivery_handler_register(Kind.PHYSICAL, _wait_for_parcel)
delivery_handler_register(Kind.DIGITAL, _entitlement)
