"""Races on real PostgreSQL: the same update twice at once, two operators receiving one return."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Sku
from apps.catalog.tests.factories import small_catalog
from apps.core.models import AuditEvent
from apps.fulfilment.models import Shipment, TrackingEvent
from apps.fulfilment.shipping import services
from apps.fulfilment.shipping.services import CourierUpdate
from apps.orders.tests.support import paid_order
from apps.payments.models import Refund


def _together(count, work):
    barrier = threading.Barrier(count)
    results: list[object] = []

    def run():
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def shipped(settings):
    settings.COURIER_BASE_URL = "http://127.0.0.1:9"  # registration is not what is tested here
    order = paid_order(User.objects.create_user("13800138000"), [small_catalog()["iphone"]])
    line = order.lines.get()
    services.shipment_create(order_number=order.number, line_ids=[line.pk], courier="sf",
                             tracking_number="SF600000001", actor_id=None)  # fmt: skip
    Shipment.objects.update(status_at=timezone.now() - timedelta(hours=2))
    return order, line


@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_pushed_eight_times_at_once_applies_once(shipped):
    update = CourierUpdate(event_id="RACE-1", tracking_number="SF600000001", status="delivered",
                           occurred_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    results = _together(8, lambda: services.tracking_update_receive(courier="sf", update=update))
    assert sorted(map(str, results)) == ["applied"] + ["duplicate"] * 7
    assert TrackingEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="shipment.delivered").count() == 1
    assert AuditEvent.objects.filter(action="order.completed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_operators_receiving_one_return_move_stock_and_money_once(shipped):
    order, line = shipped
    services.tracking_update_receive(courier="sf", update=CourierUpdate(
        event_id="D", tracking_number="SF600000001", status="delivered",
        occurred_at=timezone.now() - timedelta(hours=1)))  # fmt: skip
    operator = User.objects.create_superuser("13800000000", "pw")
    asked = services.return_request(number=order.number, user_id=order.user_id, line_id=line.pk,
                                    reason="x", unopened=True)  # fmt: skip
    services.return_decide(return_id=asked.id, approve=True, actor_id=operator.pk)
    on_hand = Sku.objects.get(pk=line.sku_id).stock_on_hand
    results = _together(
        6, lambda: services.return_receive(return_id=asked.id, actor_id=operator.pk)
    )
    assert {getattr(r, "status", repr(r)) for r in results} == {"received"}
    assert Sku.objects.get(pk=line.sku_id).stock_on_hand == on_hand + 1
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.status) == (599900, "requested")
    assert AuditEvent.objects.filter(action="return.received").count() == 1
