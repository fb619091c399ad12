"""Plan changes, add-ons and points bought in the mall: delivered exactly once, or refunded."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.carrier.errors import CarrierUnavailable
from apps.catalog.tests.factories import category, product, product_type
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import services
from apps.fulfilment.models import Delivery
from apps.ledger.selectors import journals_for_reference
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db
OFFER = {"key": "offer_code", "label": "资费代码", "type": "str", "required": False}


@pytest.fixture
def number() -> str:
    """A line of its own per test, since the sandbox lives for the whole session."""
    return unique_msisdn("158")


@pytest.fixture
def line(carrier_sandbox, number):
    """The line on the 18 yuan plan with 30 yuan of balance."""
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=3000, plan="SENIOR-18")
    return carrier_sandbox


@pytest.fixture
def goods(db):
    cat = category("mobile")
    plan = product_type("plan", needs_number=True, schema=[OFFER])
    addon = product_type("addon", needs_number=True, schema=[OFFER])
    points = product_type(
        "points", schema=[{"key": "points", "label": "积分", "type": "int", "required": True}]
    )
    return {
        "plan": product(
            cat, plan, "5G智享套餐 58元档", price=5800, attributes={"offer_code": "5G-58"}
        ),
        "addon": product(
            cat, addon, "5GB流量叠加包", price=1000, attributes={"offer_code": "ADD-5GB"}
        ),
        "bad_addon": product(cat, addon, "没有代码的叠加包", price=700),
        "points": product(cat, points, "移动积分 1000分", price=990, attributes={"points": 1000}),
    }


def _paid(item, recipient: str, *, quantity: int = 1, tasks: bool = False) -> Order:
    """An order paid in points; its order_paid fact creates the line's delivery."""
    buyer = User.objects.create_user("13900139000")
    payments.points_grant(user_id=buyer.pk, points=100_000, key=f"g{buyer.pk}", reason="t")
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=item.skus.get().pk,
                    quantity=quantity, recipient=recipient)  # fmt: skip
    with outbox_handled(tasks=tasks):  # tasks: the worker delivers it too
        view = orders.checkout_submit(
            user_id=buyer.pk, checkout_key="k1", points=item.skus.get().price_fen * quantity
        )
    return Order.objects.get(number=view.number)


def _get(sandbox, number: str, tail: str) -> dict:
    url = f"{sandbox.url}/carrier/v1/subscribers/{quote(number)}{tail}"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()


def _next_month_first():
    return (timezone.localdate().replace(day=28) + timedelta(days=4)).replace(day=1)


def test_a_plan_bought_in_the_mall_is_scheduled_for_next_month_once_and_texted(
    line, number, goods, django_capture_on_commit_callbacks
):
    order = _paid(goods["plan"], number, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.kind, job.status, job.offer_code, job.effective_from) == (
        "plan_change", "delivered", "5G-58", _next_month_first(),
    )  # fmt: skip
    plan = _get(line, number, "/plan")
    assert (plan["plan"]["code"], plan["pending"]["plan"]["code"]) == ("SENIOR-18", "5G-58")
    assert plan["pending"]["request_id"] == job.carrier_request_id
    assert services.job_deliver(job_id=job.pk) == "delivered"
    # Compared through gettext, so it holds before and after the Chinese text is merged.
    assert [m["text"] for m in line.messages(number)] == [
        _("[CarrierHub] Your plan changes to %(plan)s on %(date)s (order %(order)s).")
        % {"plan": "5G智享套餐 58元档", "date": date_format(_next_month_first(), "DATE_FORMAT"),
           "order": order.number}
    ]  # fmt: skip
    assert OrderLine.objects.get(order=order).fulfilment == "delivered"


def test_an_add_on_bought_in_the_mall_is_not_charged_to_the_balance_again(
    line, number, goods, django_capture_on_commit_callbacks
):
    order = _paid(goods["addon"], number, quantity=2, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.status, job.delivered_units) == ("delivered", 2)
    usage = _get(line, number, "/usage")
    assert sorted((b["kind"], b["total_mb"]) for b in usage["buckets"]) == [
        ("addon", 5120), ("addon", 5120), ("plan", 3072),
    ]  # fmt: skip
    assert _get(line, number, "")["balance_fen"] == 3000


def test_an_add_on_under_a_lost_answer_is_applied_once(line, number, goods, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    order = _paid(goods["addon"], number)
    job = Delivery.objects.get(order_number=order.number)
    line.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        services.job_deliver(job_id=job.pk)  # applied, answer lost, by-key also lost
    line.set_knobs(lost_response_rate=0.0)

    assert services.job_deliver(job_id=job.pk) == "delivered"

    assert [b["kind"] for b in _get(line, number, "/usage")["buckets"]].count("addon") == 1


def test_a_plan_change_under_a_timeout_is_applied_once(line, number, goods, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    order = _paid(goods["plan"], number)
    job = Delivery.objects.get(order_number=order.number)
    line.set_knobs(timeout_rate=1.0, hang_ms=1000)
    with pytest.raises(CarrierUnavailable):
        services.job_deliver(job_id=job.pk)
    line.set_knobs(timeout_rate=0.0)
    assert _get(line, number, "/plan")["pending"] is None

    assert services.job_deliver(job_id=job.pk) == "delivered"

    assert _get(line, number, "/plan")["pending"]["plan"]["code"] == "5G-58"
    assert Delivery.objects.get(pk=job.pk).attempts == 2


def test_a_refused_plan_change_is_refunded_automatically(
    line, number, goods, django_capture_on_commit_callbacks
):
    line.put_subscriber(number, plan="5G-58")  # already on the plan bought
    order = _paid(goods["plan"], number, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.status, job.last_error) == ("refunded", "SAME_PLAN")
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen, refund.status) == (True, 5800, "succeeded")
    assert payments.points_balance(user_id=order.user_id) == 100_000
    assert OrderLine.objects.get(order=order).fulfilment == "refunded"
    assert _get(line, number, "/plan")["pending"] is None


def test_a_second_plan_change_in_one_line_is_refunded_for_the_unit_not_applied(
    line, number, goods, django_capture_on_commit_callbacks
):
    order = _paid(goods["plan"], number, quantity=2, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.status, job.delivered_units, job.last_error) == (
        "refunded",
        1,
        "PENDING_CHANGE_EXISTS",
    )
    assert Refund.objects.get().amount_fen == 5800
    assert _get(line, number, "/plan")["pending"]["plan"]["code"] == "5G-58"


def test_a_product_without_an_offer_code_is_refunded_without_calling_the_carrier(
    line, number, goods, django_capture_on_commit_callbacks
):
    order = _paid(goods["bad_addon"], number, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.status, job.last_error) == ("refunded", "OFFER_NOT_CONFIGURED")
    assert Refund.objects.get().amount_fen == 700
    assert [b["kind"] for b in _get(line, number, "/usage")["buckets"]] == ["plan"]


def test_points_are_credited_to_the_buyer_once(
    line, number, goods, django_capture_on_commit_callbacks
):
    order = _paid(goods["points"], "", quantity=3, tasks=True)

    job = Delivery.objects.get(order_number=order.number)
    assert (job.kind, job.status, job.points, job.msisdn) == (
        "points",
        "delivered",
        1000,
        "+8613900139000",
    )
    assert payments.points_balance(user_id=order.user_id) == 100_000 - 3 * 990 + 3000
    # A worker that died after crediting but before recording it runs the job again: the
    # ledger answers the repeated key with the first journal, and nothing more is credited.
    Delivery.objects.filter(pk=job.pk).update(status="delivering", delivered_units=0)
    OrderLine.objects.filter(order=order).update(fulfilment="delivering")
    assert services.job_deliver(job_id=job.pk) == "delivered"
    assert payments.points_balance(user_id=order.user_id) == 100_000 - 3 * 990 + 3000
    granted = [
        j
        for j in journals_for_reference(reference=f"user:{order.user_id}")
        if j.kind == "points.granted"
    ]
    assert len(granted) == 4  # the test's own grant and one per unit
    assert line.messages("+8613900139000", limit=1)[0]["text"] == _(
        "[CarrierHub] %(points)s points have been credited to your account (order %(order)s)."
    ) % {"points": 3000, "order": order.number}
