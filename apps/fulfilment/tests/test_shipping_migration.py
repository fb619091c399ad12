"""The move of shipping from orders to fulfilment keeps every row: a parcel's order becomes its
number, the line ids stay, deliveries of parcels get the order's address; back and forth."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog

BEFORE = [("orders", "0004_delivery_summary_and_refund_lines"), ("fulfilment", "0010_bulk_and_line_moved_out")]  # fmt: skip
AFTER = [("orders", "0006_shipping_moved_to_fulfilment"), ("fulfilment", "0011_shipping_moved_from_orders")]  # fmt: skip


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_parcels_lines_and_returns():
    buyer = User.objects.create_user("13800138000")
    sku = small_catalog()["iphone"].skus.get()
    old = _migrate(BEFORE)
    order = old.get_model("orders", "Order").objects.create(
        number="CH1", user_id=buyer.pk, checkout_key="k", status="completed", goods_fen=100,
        payable_fen=100, shipping={"name": "张三", "city": "广州"}, expires_at=timezone.now(),
    )  # fmt: skip
    line = old.get_model("orders", "OrderLine").objects.create(
        order=order, sku_id=sku.pk, product_id=sku.product_id, product_name="iPhone", sku_name="x",
        kind="physical", unit_price_fen=100, quantity=1, total_fen=100, fulfilment="delivered",
    )  # fmt: skip
    shipment = old.get_model("orders", "Shipment").objects.create(
        order=order,
        courier="sf",
        tracking_number="SF1",
        status="delivered",
        status_at=timezone.now(),
    )
    old.get_model("orders", "ShipmentLine").objects.create(shipment=shipment, order_line=line)
    old.get_model("orders", "ReturnRequest").objects.create(
        order_line=line, user_id=buyer.pk, reason="r", amount_fen=100
    )
    old.get_model("fulfilment", "Delivery").objects.create(
        line_id=line.pk, order_number="CH1", kind="physical", units=1, refund_fen=100,
        status="delivered",
    )  # fmt: skip

    new = _migrate(AFTER)
    moved = new.get_model("fulfilment", "Shipment").objects.get()
    assert (moved.pk, moved.order_number, moved.tracking_number) == (shipment.pk, "CH1", "SF1")
    assert list(moved.lines.values_list("line_id", flat=True)) == [line.pk]
    back = new.get_model("fulfilment", "ReturnRequest").objects.get()
    assert (back.line_id, back.order_number, back.amount_fen) == (line.pk, "CH1", 100)
    assert new.get_model("fulfilment", "Delivery").objects.get().shipping == order.shipping

    again = _migrate(BEFORE)
    assert again.get_model("orders", "Shipment").objects.get().order_id == order.pk
    assert again.get_model("orders", "ReturnRequest").objects.get().order_line_id == line.pk
    _migrate(AFTER)
    assert new.get_model("fulfilment", "Shipment").objects.get().order_number == "CH1"
    # Back to the latest schema: later migrations (orders 0007 …) must be there for the next test.
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())
