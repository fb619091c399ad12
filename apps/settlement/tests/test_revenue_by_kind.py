"""The revenue report splits the platform's revenue from orders by product kind (payments by
what each line was paid, marketing's discounts by each line's discount, refunds over the lines
asked back), the rest by journal kind, and the whole equals the ledger's movement to the fen."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger import selectors as ledger
from apps.ledger.services import LineSpec, journal_post
from apps.marketing.tests.support import campaign
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.orders.tests.support import ADDRESS
from apps.payments import services as payments
from apps.payments.models import Refund
from apps.settlement.reports.sources import REPORTS, Params
from apps.settlement.services import day_start, today

pytestmark = pytest.mark.django_db


def fen(yuan: str) -> int:
    whole, cents = yuan.lstrip("-").split(".")
    return (-1 if yuan.startswith("-") else 1) * (int(whole) * 100 + int(cents))


def _period() -> Params:
    return Params(today(), today() + dt.timedelta(days=1))


def _revenue() -> dict[tuple[str, str], int]:
    rows = REPORTS["revenue"].rows(_period())
    return {(row[0], str(row[1])): fen(row[3]) for row in rows if row[2] == "platform:revenue"}


def _ledger_revenue() -> int:
    start, end = day_start(today()), day_start(today() + dt.timedelta(days=1))
    return -ledger.account_movement(code="platform:revenue", start=start, end=end)


def _buy(user: User, products: list, key: str, points: int) -> str:
    for product in products:
        orders.cart_add(owner=CartOwner(user_id=user.pk), sku_id=product.skus.get().pk, quantity=1)
    payments.points_grant(user_id=user.pk, points=points, key=f"g-{key}", reason="test")
    with outbox_handled():  # paid with points: the order_paid fact books the discounts
        order = orders.checkout_submit(
            user_id=user.pk, checkout_key=key, shipping=ADDRESS, points=points
        )
    return order.number


def test_order_revenue_is_split_by_product_kind_and_adds_up_to_the_ledger() -> None:
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    campaign(name="手机立减", rule="fixed", category_paths=["physical"], amount_fen=10_000)
    # 599,900 phone − 10,000 off, and 1,500 of video VIP: 591,400 paid.
    _buy(buyer, [catalog["iphone"], catalog["vip"]], "k1", points=591_400)
    journal_post(
        idempotency_key="test:enterprise", kind="enterprise.delivery", reference="bulk:1",
        lines=[LineSpec("clearing:alipay", 777), LineSpec("platform:revenue", -777)],
    )  # fmt: skip

    revenue = _revenue()

    assert revenue == {
        ("product_kind", "physical"): 599_900,  # paid 589,900 + the campaign's 10,000
        ("product_kind", "digital"): 1_500,
        ("platform", "enterprise.delivery"): 777,
    }
    assert sum(revenue.values()) == _ledger_revenue() == 602_177


def test_a_refund_is_taken_from_the_kind_of_the_lines_asked_back() -> None:
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    number = _buy(buyer, [catalog["iphone"]], "k2", points=599_900)
    finance = User.objects.create_superuser("13800000009", "pw")
    with outbox_handled(tasks=True):
        orders.order_refund_request(number=number, user_id=buyer.pk, reason="changed mind")
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)

    revenue = _revenue()

    assert Refund.objects.get().status == "succeeded"
    assert revenue == {("product_kind", "physical"): 0}
    assert sum(revenue.values()) == _ledger_revenue() == 0
