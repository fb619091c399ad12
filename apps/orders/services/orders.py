"""Checkout, paying, cancelling, expiring and refunding orders (errors, views and state moves:
``state.py``).

Locks, always in the global order (orders/locks.py): the user row, then the cart, then the
order row, then stock (catalog locks SKUs in pk order), then SIM numbers, then payments, then
the ledger. Payments reach orders only through
the purpose handler registered in apps.py (``payment_succeeded`` / ``payment_refunded``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import user_profile
from apps.carrier.services import sms_queue
from apps.catalog.selectors import (
    FOR_SALE_RELATED,
    DeliverySpec,
    delivery_spec_columns,
    skus_for_sale,
    skus_for_sale_of,
    stock_held_column,
)
from apps.catalog.services import products_sold, stock_commit, stock_release, stock_reserve
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import InvalidArgument
from apps.core.money import format_fen
from apps.marketing import services as marketing
from apps.marketing.selectors import flash_reserved_column, order_channel_name
from apps.orders.locks import cart_lock, order_lines_lock, order_lock, user_lock
from apps.orders.models import CartLine, Order, OrderLine
from apps.orders.services.delivery import (
    lines_refunded_publish,
    order_completed_publish,
    order_delivery_ended,
    order_paid_publish,
)
from apps.orders.services.pricing import price_lines
from apps.orders.services.sim import RealNameInput, sim_owner_check
from apps.orders.services.state import (
    PURPOSE,
    CartChanged,
    CartEmpty,
    Fulfilment,
    OrderNotFound,
    OrderStateConflict,
    OrderView,
    ShippingAddress,
    ShippingRequired,
    Status,
    _line_move,
    _lines_move,
    _locked_order,
    _move,
    order_view,
)
from apps.payments import selectors as payment_selectors
from apps.payments import services as payments
from apps.payments.errors import InsufficientPoints
from apps.payments.handlers import LineDescription, PaymentFact, RefundFact
from apps.risk import services as risk
from apps.simcards import services as simcards
from apps.simcards.errors import RealNameRequired
from apps.simcards.selectors import SIM_TYPE_CODE


def _new_number() -> str:
    return f"CH{timezone.localtime():%y%m%d}{secrets.randbelow(10**10):010d}"


# --- Checkout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectLine:
    """An item ordered without the cart: one SKU, how many, and for whose number."""

    sku_id: int
    quantity: int
    recipient_msisdn: str = ""


@risk.holds_on_review
def checkout_submit(
    *,
    user_id: int,
    checkout_key: str,
    shipping: ShippingAddress | None = None,
    points: int = 0,
    real_name: RealNameInput | None = None,
    items: list[DirectLine] | None = None,
    coupon_code: str = "",
    channel_code: str = "",
    channel_strict: bool = False,
    flash_claim_id: int | None = None,
) -> OrderView:
    """Turn the user's cart into an order: freeze prices, hold stock and numbers, apply the
    campaigns and the coupon (marketing holds them for the order), spend points.

    With ``items`` (buy now, the recharge box) those are ordered instead, and the cart is
    neither read nor changed.

    Idempotent per ``checkout_key`` (the page's hidden token): submitting twice returns the
    same order. Locks the user row, then the cart (orders/locks.py), so one user's checkouts
    run one at a time and adds wait for them (an add is in this order or in the cart); stock
    is reserved under ``order:<number>`` and nothing is written if any SKU is short
    (``OutOfStock``). Points, if any, are taken at once as a points payment. A SIM card's
    buyer is checked with the carrier first (``real_name``; no transaction is open during the
    call), and the chosen numbers are held for the order under the same reference. Risk
    control decides on the checkout (and on a SIM purchase, by the owner's ID hash) once the
    total is known: a block refuses it, a review holds the checkout key for an operator.
    ``flash_claim_id``: the order of that flash-sale claim (its worker), refused with
    ``FlashClaimGone`` when the claim was released first.
    """
    sim_owner = sim_owner_check(user_id=user_id, checkout_key=checkout_key, real_name=real_name)
    with transaction.atomic():
        # Read once, under the user's lock: a repeat (or a racing twin, which waited for the
        # lock) finds the order; the key's own unique index answers the read.
        user_lock(user_id=user_id)
        existing = Order.objects.filter(checkout_key=checkout_key).first()
        if existing is not None:
            if existing.user_id != user_id:
                raise OrderNotFound()
            return order_view(existing)
        # Adds wait on the cart row until this checkout ends: it orders what it read here and
        # removes those lines only; an add after it lands in the (kept) cart.
        cart_lines: list[CartLine]
        if items is None:
            cart = cart_lock(user_id=user_id)
            # The lines with their SKUs for sale and whether the buyer holds a reserved flash
            # claim for each: one statement.
            cart_lines = list(
                CartLine.objects.filter(cart=cart)
                .select_related(*(f"sku__{field}" for field in FOR_SALE_RELATED))
                .annotate(flash_reserved=flash_reserved_column(user_id=user_id, sku_field="sku_id"))
                .order_by("id")
            )
        else:  # unsaved lines, told apart by a negative key
            cart_lines = [
                CartLine(pk=-n, sku_id=it.sku_id, quantity=it.quantity,
                         recipient_msisdn=it.recipient_msisdn)
                for n, it in enumerate(items, start=1)
            ]  # fmt: skip
        if not cart_lines:
            raise CartEmpty()
        skus = (
            skus_for_sale(sku_ids=[line.sku_id for line in cart_lines])
            if items is not None
            else skus_for_sale_of(line.sku for line in cart_lines)
        )
        if any(line.sku_id not in skus for line in cart_lines):
            raise CartChanged()
        needs_shipping = any(skus[line.sku_id].kind == "physical" for line in cart_lines)
        if needs_shipping and shipping is None:
            raise ShippingRequired()
        sim_lines = [line for line in cart_lines if skus[line.sku_id].type_code == SIM_TYPE_CODE]
        if sim_lines and sim_owner is None:
            raise RealNameRequired()
        number = _new_number()
        # Only goods that track stock are held (``skus_for_sale`` just found every SKU on sale,
        # so a cart of digital goods needs no statement here).
        tracked = [line for line in cart_lines if skus[line.sku_id].stock_available is not None]
        if tracked:
            stock_reserve(
                lines=[(line.sku_id, line.quantity) for line in tracked],
                reference=f"order:{number}",
            )
        # A SIM card costs the card's price plus its number's premium, read under the number's
        # lock (after stock, in the global order) so the order has the price it holds.
        premiums = simcards.numbers_premium_lock(
            msisdns=[line.recipient_msisdn for line in sim_lines]
        )
        prices = {
            line.pk: skus[line.sku_id].price_fen + premiums.get(line.recipient_msisdn, 0)
            for line in cart_lines
        }
        goods = sum(prices[line.pk] * line.quantity for line in cart_lines)
        # After stock and numbers (the global lock order): campaigns, then the coupon.
        pricing = marketing.checkout_price(user_id=user_id, order_number=number, coupon_code=coupon_code,
                                           channel_code=channel_code, channel_strict=channel_strict,
                                           flash_claim_id=flash_claim_id,
                                           flash_possible=any(getattr(ln, "flash_reserved", True)
                                                              for ln in cart_lines),
                                           lines=price_lines(cart_lines, skus, prices))  # fmt: skip
        risk.enforce(
            event=risk.Event(kind=risk.Kind.CHECKOUT, user_id=user_id, amount_fen=pricing.total_fen,
                             reference=checkout_key),
            owner="orders", reference=checkout_key,
        )  # fmt: skip
        if sim_lines:
            assert sim_owner is not None
            risk.enforce(
                event=risk.Event(kind=risk.Kind.SIM_PURCHASE, user_id=user_id, id_hash=sim_owner.id_number_hash,
                                 msisdn=sim_lines[0].recipient_msisdn, amount_fen=pricing.total_fen,
                                 reference=checkout_key),
                owner="orders.sim", reference=checkout_key,
            )  # fmt: skip
        if points < 0 or points > pricing.total_fen:
            raise InvalidArgument(
                _("You can pay at most the order total with points."), details={"points": points}
            )
        if points and points > payments.points_balance(user_id=user_id):
            raise InsufficientPoints()
        order = Order.objects.create(
            number=number, user_id=user_id, checkout_key=checkout_key, goods_fen=goods,
            discount_fen=pricing.discount_fen, points_fen=points, payable_fen=pricing.total_fen - points,
            shipping=shipping.__dict__ if (shipping and needs_shipping) else {},
            expires_at=timezone.now() + timedelta(seconds=settings.ORDER_PAYMENT_TIMEOUT_SECONDS),
        )  # fmt: skip
        order_lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order, sku_id=line.sku_id, product_id=skus[line.sku_id].product_id,
                product_name=skus[line.sku_id].product_name, sku_name=skus[line.sku_id].sku_name,
                kind=skus[line.sku_id].kind, unit_price_fen=prices[line.pk], quantity=line.quantity,
                total_fen=prices[line.pk] * line.quantity, recipient_msisdn=line.recipient_msisdn,
                discount_fen=pricing.line_discounts.get(line.pk, 0),
            )
            for line in cart_lines
        )  # fmt: skip
        if sim_lines:
            # After stock: the global lock order is stock, then numbers.
            assert sim_owner is not None
            sim_skus = {line.sku_id for line in sim_lines}
            simcards.numbers_hold_for_order(
                user_id=user_id, reference=f"order:{order.number}", until=order.expires_at,
                lines=[(ol.pk, ol.recipient_msisdn) for ol in order_lines if ol.sku_id in sim_skus],
                owner=sim_owner,
            )  # fmt: skip
        if items is None:
            CartLine.objects.filter(pk__in=[line.pk for line in cart_lines]).delete()
        audit_record(action="order.created", object_type="order", object_id=order.number, actor_id=user_id,
                     after={"goods_fen": goods, "discount_fen": pricing.discount_fen, "points_fen": points,
                            "lines": len(cart_lines)})  # fmt: skip
        if points:
            payments.intent_start(
                purpose=PURPOSE, reference=order.number, user_id=user_id, method="points", channel="",
                amount_fen=points, subject=order.number, client_ip="", idempotency_key=f"order:{order.number}:points",
                expires_at=order.expires_at, return_url="",
            )  # fmt: skip
            order.refresh_from_db()  # the points payment may have moved it
        if channel_code:
            _channel_order_text(order)  # in the order's transaction: one text per order
        if points:
            return order_view(order)
    # Nothing changed the order's lines since they were written: they are the ones just inserted.
    return order_view(order, lines=order_lines)


def order_payment_url(number: str) -> str:
    """The order's page, where its buyer signs in and pays (absolute: it is texted and handed
    to channels)."""
    return settings.CARRIER_CALLBACK_BASE_URL.rstrip("/") + reverse("orders:detail", args=[number])


def _channel_order_text(order: Order) -> None:
    """Text the buyer the payment link of an order a channel brought (its gateway orders are
    placed for the customer, who is elsewhere), in the order's own transaction: the order's
    unique checkout key makes it one SMS per order, however often the request is replayed. An
    order with nothing left to pay gets none."""
    channel = order_channel_name(order_number=order.number)
    if channel is None or order.payable_fen <= 0 or order.status != Status.PENDING_PAYMENT:
        return
    text = _(
        "[CarrierHub] Your order %(order)s from %(channel)s: %(amount)s to pay by %(until)s at %(url)s"
    ) % {
        "order": order.number, "channel": channel, "amount": format_fen(order.payable_fen),
        "until": timezone.localtime(order.expires_at).strftime("%m-%d %H:%M"),
        "url": order_payment_url(order.number),
    }  # fmt: skip
    sms_queue(msisdn=user_profile(user_id=order.user_id).phone, purpose="notice", text=text)


def order_pay(
    *,
    number: str,
    user_id: int,
    method: str,
    channel: str,
    client_ip: str,
    attempt_key: str,
    return_url: str,
    risk_code: str = "",
    msisdn: str = "",
) -> payments.IntentView:
    """Start paying what is left of an order with a provider; idempotent per ``attempt_key``.
    ``risk_code`` answers a risk challenge (the SMS code texted by the first try); ``msisdn``
    is the signed-in buyer's number (risk need not read it)."""
    order = Order.objects.filter(number=number, user_id=user_id).first()
    if order is None:
        raise OrderNotFound()
    if order.status != Status.PENDING_PAYMENT or order.expires_at <= timezone.now():
        raise OrderStateConflict()
    return payments.intent_start(
        purpose=PURPOSE, reference=number, user_id=user_id, method=method, channel=channel,
        amount_fen=order.payable_fen, subject=_("CarrierHub order %(number)s") % {"number": number},
        client_ip=client_ip, idempotency_key=f"order:{number}:{attempt_key}", expires_at=order.expires_at,
        return_url=return_url, risk_code=risk_code, msisdn=msisdn,
    )  # fmt: skip


# --- What payments tell us (registered in apps.py) --------------------------------------------


def payment_succeeded(fact: PaymentFact) -> bool:
    """Take a payment for an order; False (order no longer payable) makes payments refund it.

    Runs in the payment's transaction with the intent locked; locks the order row (``lock``
    did already when the fact carries the row it returned). The order is paid when its
    points part and its money part have both settled.
    """
    locked = fact.owner
    if isinstance(locked, Order) and locked.number == fact.reference:
        order: Order | None = locked
    else:
        order = order_lock(number=fact.reference)
    if order is None or order.status != Status.PENDING_PAYMENT:
        return False
    wanted = order.points_fen if fact.method == "points" else order.payable_fen
    if fact.amount_fen != wanted:
        return False
    settled = {fact.method}
    if order.points_fen and order.payable_fen:  # two parts: has the other one settled?
        intents = payment_selectors.intents_for(purpose=PURPOSE, reference=order.number)
        settled |= {i.method for i in intents if i.settles}
    points_done = order.points_fen == 0 or "points" in settled
    money_done = order.payable_fen == 0 or bool(settled - {"points"})
    if points_done and money_done:
        _move(order, Status.PAID, method=fact.method)
        order.paid_at = timezone.now()
        order.save(update_fields=["status", "paid_at", "updated_at"])
        # The lines once, with their products' delivery specs and whether stock is held for
        # the order, in the statement that moves them to "ready" (one statement for the five
        # uses below; stock settled only if some is).
        reference = f"order:{order.number}"
        lines = _lines_ready(order, reference=reference)
        if lines and lines[0].stock_held:  # type: ignore[attr-defined]
            stock_commit(reference=reference)
        sold: dict[int, int] = {}
        for line in lines:
            sold[line.product_id] = sold.get(line.product_id, 0) + line.quantity
        transaction.on_commit(partial(products_sold, units=sold))
        if any(line.recipient_msisdn for line in lines):  # numbers are held as lines' recipients
            simcards.numbers_sell(reference=f"order:{order.number}")
        order_paid_publish(order, lines=lines, specs=_specs(lines))
    return True


def _lines_ready(order: Order, *, reference: str) -> list[OrderLine]:
    """Move the paid order's lines that may go to "ready" there, and return all its lines (pk
    order) with their delivery specs and ``stock_held``, in one statement (the order row is
    locked). The SELECT reads the lines as they were; each line the UPDATE moved gets its
    audited transition here (the row is written already)."""
    lines = order.lines.order_by("pk").annotate(
        **delivery_spec_columns(product_id="product_id"),
        stock_held=stock_held_column(reference=reference),
    )
    select, params = lines.query.sql_with_params()
    table = OrderLine._meta.db_table
    movable = [
        state for state, allowed in OrderLine.TRANSITIONS.items() if Fulfilment.READY in allowed
    ]
    sql = (
        f"WITH m AS (UPDATE {table} SET fulfilment = %s "  # noqa: S608 - names from the model
        "WHERE order_id = %s AND fulfilment = ANY(%s) RETURNING id) "
        f"SELECT q.*, EXISTS (SELECT 1 FROM m WHERE m.id = q.id) AS moved FROM ({select}) q "
        "ORDER BY q.id"
    )
    found = list(OrderLine.objects.raw(sql, [Fulfilment.READY, order.pk, movable, *params]))
    for line in found:
        if isinstance(line.spec_attributes, str):  # type: ignore[attr-defined]
            line.spec_attributes = json.loads(line.spec_attributes)  # type: ignore[attr-defined]
        if line.moved:  # type: ignore[attr-defined]
            audited_transition(
                line, Fulfilment.READY, object_type="order_line", object_id=line.pk,
                field="fulfilment", refused=lambda details: OrderStateConflict(details=details),
                after={"order": order.number},
            )  # fmt: skip
    return found


def _specs(lines: list[OrderLine]) -> dict[int, DeliverySpec]:
    """The delivery specs read with the lines (``delivery_spec_columns``), by product id."""
    return {
        line.product_id: DeliverySpec(line.product_id, line.spec_type_code, line.spec_attributes)  # type: ignore[attr-defined]
        for line in lines
        if line.spec_type_code is not None  # type: ignore[attr-defined]
    }


def payment_refunded(fact: RefundFact) -> None:
    """Book a refund on its order; the order is refunded when everything paid came back."""
    if not fact.intent_settled:
        return  # a second or late payment given back: the order never counted it
    order = order_lock(number=fact.reference)
    if order is None or order.status not in (Status.PAID, Status.COMPLETED):
        return
    order.refunded_fen += fact.amount_fen
    fields = ["refunded_fen", "updated_at"]
    whole = order.refunded_fen >= order.goods_fen - order.discount_fen
    if whole:
        _move(order, Status.REFUNDED, refunded_fen=order.refunded_fen)
        fields.append("status")
    # The lines this money was for: all of them, or those a refund was asked for.
    lines = order.lines.all() if whole else order.lines.filter(refund_requested_at__isnull=False)
    moved: list[int] = []
    unsold: dict[int, int] = {}
    for line in order_lines_lock(lines):
        if line.can_move_to(Fulfilment.REFUNDED):
            _line_move(line, Fulfilment.REFUNDED, order_number=order.number)
            moved.append(line.pk)
            unsold[line.product_id] = unsold.get(line.product_id, 0) - line.quantity
    # A refunded line is no longer a sale (paid units were added by payment_succeeded).
    if unsold:
        transaction.on_commit(partial(products_sold, units=unsold))
    # A SIM number sold with a refunded line and not yet activated goes back to the pool.
    simcards.number_release_for_order(line_ids=moved, reference=f"order:{order.number}")
    lines_refunded_publish(number=order.number, line_ids=moved, key=f"refund:{fact.refund_id}",
                           reason="order_refunded" if whole else "lines_refunded")  # fmt: skip
    order.save(update_fields=fields)


def lock(reference: str) -> Order | None:
    """Lock the order before its payment (the global lock order: order, then payment); the
    row comes back to ``payment_succeeded`` in the payment's fact."""
    return order_lock(number=reference)


def describe(reference: str) -> str:
    return _("CarrierHub order %(number)s") % {"number": reference}


def describe_lines(references: list[str]) -> dict[str, list[LineDescription]]:
    """Each order's lines with their delivery state (the payments workbench's refund pages)."""
    described: dict[str, list[LineDescription]] = {}
    rows = OrderLine.objects.filter(order__number__in=references).order_by("order_id", "pk")
    for number, name, state in rows.values_list("order__number", "product_name", "fulfilment"):
        label = str(OrderLine.Fulfilment(state).label)
        described.setdefault(number, []).append(LineDescription(name, state, label))
    return described


# --- Cancel, expire, complete, refund -----------------------------------------------------------


def _close_unpaid(order: Order, status: str, *, actor_id: int | None) -> None:
    """Cancel or expire an unpaid order: give back stock and points, stop waiting for money."""
    _move(order, status, actor_id=actor_id)
    order.save(update_fields=["status", "updated_at"])
    _lines_move(order, Fulfilment.CANCELLED)
    stock_release(reference=f"order:{order.number}")
    simcards.numbers_release_order(reference=f"order:{order.number}")
    marketing.order_released(order_number=order.number)
    for intent in payment_selectors.intents_for(purpose=PURPOSE, reference=order.number):
        if intent.status in ("created", "pending"):
            payments.intent_cancel(public_id=intent.public_id, reason=status)
        elif intent.method == "points" and intent.status == "succeeded":
            payments.refund_request(
                intent_id=intent.id, amount_fen=intent.amount_fen - intent.refunded_fen,
                reason=f"order {status}", request_key=f"order:{order.number}:{status}:points", requested_by=actor_id,
            )  # fmt: skip
            # Points go back without finance's approval: nothing left the platform.
            refund = payment_selectors.refunds_for(purpose=PURPOSE, reference=order.number)[-1]
            payments.refund_decide(
                refund_id=refund.id, approve=True, actor_id=actor_id or order.user_id
            )


def order_cancel(*, number: str, user_id: int) -> OrderView:
    """The buyer cancels an unpaid order. Locks the order."""
    with transaction.atomic():
        order = _locked_order(number, user_id=user_id)
        if order.status != Status.PENDING_PAYMENT:
            raise OrderStateConflict()
        _close_unpaid(order, Status.CANCELLED, actor_id=user_id)
    return order_view(order)


def orders_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire unpaid orders past their deadline (Celery beat, every minute); idempotent."""
    now = now or timezone.now()
    numbers = list(
        Order.objects.filter(status=Status.PENDING_PAYMENT, expires_at__lte=now)
        .order_by("expires_at").values_list("number", flat=True)[:limit]
    )  # fmt: skip
    expired = 0
    for number in numbers:
        with transaction.atomic():
            order = order_lock(number=number, skip_locked=True)
            if order is None or order.status != Status.PENDING_PAYMENT:
                continue
            _close_unpaid(order, Status.EXPIRED, actor_id=None)
            expired += 1
    return expired


def order_complete(*, number: str, actor_id: int | None = None) -> OrderView:
    """Mark a paid order complete by hand (the workbench); refused (``OrderStateConflict``)
    while any line's delivery has not ended. Locks the order."""
    with transaction.atomic():
        order = _locked_order(number)
        if not order_delivery_ended(order):
            raise OrderStateConflict(details={"delivery": "open"})
        _move(order, Status.COMPLETED, actor_id=actor_id)
        order.save(update_fields=["status", "updated_at"])
        order_completed_publish(order)
    return order_view(order)
