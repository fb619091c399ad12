"""Buying in a flash sale (秒杀): the request only wins or loses units; a worker places the order.

``flash_buy`` answers at once: losers from Redis alone, a winner with a ``reserved`` claim
(marketing's ``flash_take``: Redis, then the claim's row) and, in the same transaction, the
order's placement handed to ``flash_order_place_task`` through the outbox. The worker
(``flash_order_place``) places an ordinary order at the flash price (marketing's pricing hook
binds that very claim to it). Exactly once: the order's checkout key is ``flash:<claim id>``
and a claim that is no longer reserved places nothing, so a task run twice (a redelivered
message, a sweeper's resend, two workers at once) makes one order. An order that cannot be
placed releases the claim once (its units go back); a claim whose order is not placed within
``FLASH_ORDER_DEADLINE_SECONDS`` is released by marketing's sweeper; a placed order holds the
units until it is paid or closes unpaid (then released, as any unpaid order's stock).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction

from apps.core.errors import DomainError
from apps.core.tasks import enqueue_on_commit
from apps.marketing import services as marketing
from apps.marketing.errors import FlashLimit
from apps.orders.services.direct import DirectItem, order_buy_now
from apps.orders.services.orders import ShippingAddress


@dataclass(frozen=True)
class FlashPurchase:
    """A buyer's flash-sale claim as the buyer follows it: ``reserved`` (won, the order being
    placed), ``ordered``/``paid`` (``order_number`` set), ``released`` (``release_code``)."""

    claim_id: int
    sale_id: int
    quantity: int
    status: str
    order_number: str
    release_code: str


def _purchase(claim: marketing.FlashClaimView) -> FlashPurchase:
    return FlashPurchase(
        claim_id=claim.id, sale_id=claim.sale_id, quantity=claim.quantity, status=claim.status,
        order_number=claim.order_number, release_code=claim.release_code,
    )  # fmt: skip


def flash_buy(
    *, user_id: int, sale_id: int, quantity: int = 1, recipient: str = "",
    shipping: ShippingAddress | None = None, points: int = 0,
) -> FlashPurchase:  # fmt: skip
    """Win (or lose) units of the sale; the order is placed afterwards by a worker.

    Losers are refused by Redis alone (``FlashSoldOut``, ``FlashLimit``, ``FlashNotOpen``),
    before any database work. A winner's claim and the placement task's outbox event commit
    in one transaction (no claim without its task, no task without its claim). A repeat of a
    winning request (the buyer already holds a live claim) is answered with that claim.
    Locks nothing but the rows it inserts.
    """
    from apps.orders.tasks import flash_order_place_task

    try:
        with transaction.atomic():
            claim_id = marketing.flash_take(sale_id=sale_id, user_id=user_id, quantity=quantity)
            enqueue_on_commit(
                flash_order_place_task, claim_id, recipient=recipient, points=points,
                shipping=asdict(shipping) if shipping else None,
            )  # fmt: skip
    except FlashLimit:
        held = marketing.flash_claim_of(sale_id=sale_id, user_id=user_id)
        if held is not None and held.status != "released":
            return _purchase(held)
        raise
    return FlashPurchase(claim_id=claim_id, sale_id=sale_id, quantity=quantity,
                         status="reserved", order_number="", release_code="")  # fmt: skip


def flash_purchase_of(*, sale_id: int, user_id: int) -> FlashPurchase | None:
    """The buyer's latest claim of the sale (what the waiting page and the API poll)."""
    claim = marketing.flash_claim_of(sale_id=sale_id, user_id=user_id)
    return _purchase(claim) if claim else None


def flash_order_place(
    *, claim_id: int, recipient: str = "", points: int = 0,
    shipping: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """Place the order of a reserved claim (the worker's half of ``flash_buy``).

    Returns the claim's status afterwards. Idempotent: a claim not reserved any more (ordered,
    paid, released) places nothing; two runs at once place one order (checkout key
    ``flash:<claim id>``, the user row lock). A refusal of the order (the number, stock, risk
    control, points, the claim released past its deadline) releases the claim once, with the
    refusal's code; a transient failure (5xx: the carrier unavailable) is raised for the task
    to retry, the units kept. The carrier checks the number before the checkout's transaction.
    """
    claim = marketing.flash_claim_get(claim_id=claim_id)
    if claim is None or claim.status != "reserved":
        return claim.status if claim else "missing"
    sale = marketing.flash_sale_info(sale_id=claim.sale_id)
    try:
        order_buy_now(
            user_id=claim.user_id, checkout_key=f"flash:{claim.id}", points=points,
            shipping=ShippingAddress(**shipping) if shipping else None,
            item=DirectItem(sku_id=sale.sku_id, quantity=claim.quantity, recipient=recipient),
            flash_claim_id=claim.id,
        )  # fmt: skip
    except DomainError as exc:
        if exc.http_status >= 500:
            raise
        marketing.flash_release(claim_id=claim.id, code=exc.code)
        return "released"
    return "ordered"


def flash_order_give_up(*, claim_id: int, code: str) -> str:
    """The worker failed for good (transient errors past its retries): release the claim."""
    marketing.flash_release(claim_id=claim_id, code=code)
    return "released"
