"""Rows for the rollup tests, written directly with chosen timestamps (the rollups read rows;
how they came to be is the other apps' tests' business)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from apps.catalog.models import Product
from apps.fulfilment.models import Delivery
from apps.orders.models import Order, OrderLine
from apps.payments.models import PaymentIntent

_seq = itertools.count(1)


def at(day: str, hh: int, mm: int = 0) -> datetime:
    """An Asia/Shanghai moment of ``day`` (YYYY-MM-DD)."""
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hh:02d}:{mm:02d}:00"))


def intent(reference: str, *, user, method: str, amount: int, status: str, created: datetime,
           settles: bool = False) -> PaymentIntent:  # fmt: skip
    n = next(_seq)
    row = PaymentIntent.objects.create(
        public_id=f"T{n:08d}", user=user, purpose="order", reference=reference, method=method,
        amount_fen=amount, status=status, settles=settles, idempotency_key=f"test-{n}",
        expires_at=created + timedelta(minutes=30),
        paid_at=created if status in PaymentIntent.PAID else None,
    )  # fmt: skip
    PaymentIntent.objects.filter(pk=row.pk).update(created_at=created)
    return row


def order(user, lines: list[tuple[Product, int]], *, created: datetime, paid: datetime | None = None,
          method: str = "alipay", province: str = "", delivered_after: list[int] | None = None) -> Order:  # fmt: skip
    """An order of ``lines`` placed at ``created``, paid at ``paid`` by ``method`` (a settling
    intent), each line delivered ``delivered_after[i]`` seconds after payment (None: not)."""
    n = next(_seq)
    skus = [(p, p.skus.get(), qty) for p, qty in lines]
    goods = sum(s.price_fen * qty for _, s, qty in skus)
    row = Order.objects.create(
        number=f"T{n:010d}", user=user, checkout_key=f"k{n}",
        status=Order.Status.PAID if paid else Order.Status.PENDING_PAYMENT,
        goods_fen=goods, payable_fen=goods, expires_at=created + timedelta(minutes=30),
        paid_at=paid, shipping={"province": province} if province else {},
    )  # fmt: skip
    Order.objects.filter(pk=row.pk).update(created_at=created)
    for i, (product, sku, qty) in enumerate(skus):
        line = OrderLine.objects.create(
            order=row, sku=sku, product_id=product.pk, product_name=product.name,
            sku_name=sku.name, kind=product.kind, unit_price_fen=sku.price_fen, quantity=qty,
            total_fen=sku.price_fen * qty,
            fulfilment=OrderLine.Fulfilment.READY if paid else OrderLine.Fulfilment.PENDING,
        )  # fmt: skip
        after = (delivered_after or [])[i] if delivered_after and i < len(delivered_after) else None
        if paid:
            Delivery.objects.create(
                line_id=line.pk, order_number=row.number, kind="digital", user_id=user.pk, units=qty,
                refund_fen=line.total_fen,
                status=Delivery.Status.DELIVERED if after is not None else Delivery.Status.PENDING,
                delivered_at=paid + timedelta(seconds=after) if after is not None else None,
            )  # fmt: skip
    if paid:
        intent(row.number, user=user, method=method, amount=goods, status="succeeded",
               created=paid - timedelta(minutes=1), settles=True)  # fmt: skip
    return row
