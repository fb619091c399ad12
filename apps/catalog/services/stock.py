"""Stock: holding it for checkouts, settling holds (sold or released), setting and restocking."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import F

from apps.catalog.errors import OutOfStock, SkuNotFound
from apps.catalog.locks import reservations_lock_held, sku_lock_tracking, skus_lock
from apps.catalog.models import Product, Sku, StockReservation
from apps.catalog.services.common import _in_stock, catalog_changed
from apps.core.audit import audit_record
from apps.core.idempotency import idempotency_claim, idempotency_complete
from apps.core.transactions import helper_atomic


def stock_reserve(*, lines: list[tuple[int, int]], reference: str) -> None:
    """Hold stock for ``lines`` of (sku id, quantity) under ``reference``, all or nothing.

    Locks the SKU rows in primary-key order (the global order: stock after user and order).
    Idempotent per (sku, reference): a repeat holds nothing more. SKUs that do not track
    stock are not locked. Raises ``OutOfStock`` with the short SKUs in ``details``.

    Whatever the number of lines: the lock, one UPDATE for every SKU's reserved count and one
    INSERT of the reservations (plus the existence count when some SKU does not track stock,
    and the repeat check when some does); the table's CHECK keeps reserved within on hand.
    """
    wanted: dict[int, int] = {}
    for sku_id, quantity in lines:
        if quantity <= 0:
            raise OutOfStock(details={"sku_id": sku_id, "quantity": quantity})
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    with helper_atomic():  # checkout's transaction, no savepoint
        skus = skus_lock(sku_ids=wanted, tracking_only=True)
        # Every locked row exists; only the others need counting.
        if len(skus) != len(wanted) and Sku.objects.filter(pk__in=wanted).count() != len(wanted):
            raise SkuNotFound()
        held = set(
            StockReservation.objects.filter(sku__in=skus, reference=reference).values_list(
                "sku_id", flat=True
            )
        )
        short = {
            sku.pk: sku.stock_available
            for sku in skus
            if sku.pk not in held and sku.stock_available < wanted[sku.pk]
        }
        if short:
            raise OutOfStock(details={"available": short})
        fresh = {sku.pk: wanted[sku.pk] for sku in skus if sku.pk not in held}
        if fresh:
            _reserved_add(fresh)
            StockReservation.objects.bulk_create(
                StockReservation(sku_id=sku_id, quantity=quantity, reference=reference)
                for sku_id, quantity in fresh.items()
            )
        if skus:
            _stock_changed({sku.product_id for sku in skus})


def _reserved_add(quantities: dict[int, int]) -> None:
    """Add to the reserved count of these SKUs (id -> units) in one ``UPDATE … FROM unnest``;
    the caller holds their row locks (taken in pk order), so no lock order is at stake here."""
    table = connection.ops.quote_name(Sku._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET stock_reserved = s.stock_reserved + v.quantity "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, quantity) WHERE s.id = v.id",
            [list(quantities), list(quantities.values())],
        )


def stock_release(*, reference: str) -> int:
    """Give back the stock held under ``reference``; returns the number of units released."""
    return _stock_settle(reference=reference, to=StockReservation.Status.RELEASED)


def stock_commit(*, reference: str) -> int:
    """Turn held stock into sold stock (on payment); returns the number of units."""
    return _stock_settle(reference=reference, to=StockReservation.Status.COMMITTED)


def _stock_settle(*, reference: str, to: str) -> int:
    with helper_atomic():  # the payment's or cancellation's transaction, no savepoint
        reservations = reservations_lock_held(reference=reference)
        if not reservations:
            return 0
        skus = {sku.pk: sku for sku in skus_lock(sku_ids=[r.sku_id for r in reservations])}
        units = 0
        for reservation in reservations:
            sku = skus[reservation.sku_id]
            sku.stock_reserved -= reservation.quantity
            if to == StockReservation.Status.COMMITTED:
                sku.stock_on_hand -= reservation.quantity
            sku.save(update_fields=["stock_reserved", "stock_on_hand"])
            reservation.status = to
            reservation.save(update_fields=["status", "updated_at"])
            units += reservation.quantity
            audit_record(
                action=f"stock.{to}",
                object_type="sku",
                object_id=sku.pk,
                after={"reference": reference, "quantity": reservation.quantity},
            )
        _stock_changed({sku.product_id for sku in skus.values()})
    return units


def stock_on_hand_set(*, sku_id: int, on_hand: Callable[[], int], reason: str) -> int:
    """Set a stock-tracking SKU's stock on hand to ``on_hand()``, computed under its row lock.

    For goods whose stock is counted elsewhere (cards sold online: the unsold cards). The
    count is taken after the SKU row is locked, so a payment committing stock and taking the
    goods in one transaction is either fully counted or not at all. Never below what is held
    for unpaid orders (those then fail to be delivered and are refunded). Returns the value set.
    """
    with transaction.atomic():
        sku = sku_lock_tracking(sku_id=sku_id)
        if sku is None:
            return 0
        before = sku.stock_on_hand
        sku.stock_on_hand = max(on_hand(), sku.stock_reserved)
        if sku.stock_on_hand != before:
            sku.save(update_fields=["stock_on_hand"])
            audit_record(action="stock.set", object_type="sku", object_id=sku.pk,
                         before={"on_hand": before}, after={"on_hand": sku.stock_on_hand, "reason": reason})  # fmt: skip
            _stock_changed({sku.product_id})
    return sku.stock_on_hand


def stock_restock(*, lines: list[tuple[int, int]], reference: str) -> int:
    """Put sold units back on hand (goods returned unopened); returns the units added.

    Idempotent per ``reference`` (e.g. ``return:12``): a repeat adds nothing. Locks the SKU
    rows in primary-key order; SKUs that do not track stock are left alone.
    """
    with transaction.atomic():
        if (
            idempotency_claim(scope="stock.restock", key=reference, payload=sorted(lines))
            is not None
        ):
            return 0
        wanted: dict[int, int] = {}
        for sku_id, quantity in lines:
            if quantity <= 0:
                raise OutOfStock(details={"sku_id": sku_id, "quantity": quantity})
            wanted[sku_id] = wanted.get(sku_id, 0) + quantity
        skus = skus_lock(sku_ids=wanted, tracking_only=True)
        for sku in skus:
            Sku.objects.filter(pk=sku.pk).update(stock_on_hand=F("stock_on_hand") + wanted[sku.pk])
            audit_record(action="stock.restocked", object_type="sku", object_id=sku.pk,
                         after={"reference": reference, "quantity": wanted[sku.pk]})  # fmt: skip
        units = sum(wanted[sku.pk] for sku in skus)
        idempotency_complete(scope="stock.restock", key=reference, response={"units": units})
        _stock_changed({sku.product_id for sku in skus})
    return units


def _stock_changed(product_ids: set[int]) -> None:
    for product_id in product_ids:
        in_stock = _in_stock(product_id)
        if (
            Product.objects.filter(pk=product_id)
            .exclude(in_stock=in_stock)
            .update(in_stock=in_stock)
        ):
            catalog_changed()
