"""What marketing adds to a checkout: 3 campaigns and a coupon against none.

``python -m loadtests.checkout_marketing [--runs 3] [--orders 150]``

Each run times ``orders.services.checkout_submit`` for ``--orders`` one-item carts (the video
membership, ¥15.00) with no campaign running, then as many with three running campaigns (a fixed
discount on the category, 满10减2, a points gift) and a coupon the buyer holds, alternating the
two so that the machine's load falls on both alike. The cart is filled outside the timing. It
also counts the SQL statements of one checkout of each kind (the figure the load cannot blur).
In process on the shared 2-core machine, against PostgreSQL and Redis as ``loadtests.flash``
sets them up (database ``<name>_flashbench``).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from loadtests.flash import _buyers, _setup
from loadtests.stats import median, percentile

TARGET_ADDED_MS = 10.0


def _campaigns(on: bool) -> None:
    from django.utils import timezone

    from apps.marketing.models import Campaign

    now = timezone.now()
    Campaign.objects.filter(name__startswith="bench ").update(status="active" if on else "paused")
    if Campaign.objects.filter(name__startswith="bench ").exists():
        return
    common = {
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=30),
        "status": "active",
    }
    Campaign.objects.create(
        name="bench fixed", rule="fixed", category_paths=["flashbench"], amount_fen=100, **common
    )
    Campaign.objects.create(
        name="bench 满减", rule="full_reduction", threshold_fen=1000, amount_fen=200, **common
    )
    Campaign.objects.create(name="bench gift", rule="gift_points", gift_points=10, **common)
    Campaign.objects.create(
        name="bench coupon", rule="fixed", amount_fen=50, coupon_only=True, **common
    )


def _coupon(user_id: int) -> str:
    from django.utils import timezone

    from apps.marketing import services
    from apps.marketing.models import Campaign, CouponBatch

    camp = Campaign.objects.get(name="bench coupon")
    batch = CouponBatch.objects.filter(campaign=camp).first()
    batch_id = batch.pk if batch else services.coupon_batch_create(
        campaign_id=camp.pk, name="bench", count=5000, per_user_limit=1000,
        valid_from=timezone.now() - timedelta(hours=1), valid_until=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    return services.coupon_claim(user_id=user_id, batch_id=batch_id)


def _one(user_id: int, sku_id: int, *, marketing: bool, key: str) -> float:
    from apps.orders import services

    services.cart_add(owner=services.CartOwner(user_id=user_id), sku_id=sku_id, quantity=1)
    code = _coupon(user_id) if marketing else ""
    began = time.perf_counter()
    order = services.checkout_submit(user_id=user_id, checkout_key=key, coupon_code=code)
    took = time.perf_counter() - began
    assert (order.discount_fen > 0) == marketing, order
    return took


def _statements(user_id: int, sku_id: int, *, marketing: bool, key: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.orders import services

    services.cart_add(owner=services.CartOwner(user_id=user_id), sku_id=sku_id, quantity=1)
    code = _coupon(user_id) if marketing else ""
    with CaptureQueriesContext(connection) as queries:
        services.checkout_submit(user_id=user_id, checkout_key=key, coupon_code=code)
    return len(queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=int, default=150)
    args = parser.parse_args(argv)
    _setup()
    users, sku_id = _buyers(args.orders * 2, points_each=0)
    from apps.catalog.models import Sku

    Sku.objects.filter(pk=sku_id).update(stock_on_hand=10**9, stock_reserved=0)
    stamp = time.time_ns()
    rows = []
    for run in range(1, args.runs + 1):
        plain: list[float] = []
        promo: list[float] = []
        for n in range(args.orders):
            for marketing, into in ((False, plain), (True, promo)):
                _campaigns(marketing)
                user = users[2 * n + int(marketing)]
                into.append(
                    _one(
                        user,
                        sku_id,
                        marketing=marketing,
                        key=f"cm{stamp}:{run}:{n}:{int(marketing)}",
                    )
                )
        rows.append(
            (
                median(plain) * 1000,
                median(promo) * 1000,
                percentile(plain, 95) * 1000,
                percentile(promo, 95) * 1000,
            )
        )
        print(f"run {run}: checkout median {rows[-1][0]:.1f} ms without, {rows[-1][1]:.1f} ms with 3 campaigns + coupon "
              f"(p95 {rows[-1][2]:.1f} / {rows[-1][3]:.1f} ms)")  # fmt: skip
    _campaigns(False)
    without = _statements(users[0], sku_id, marketing=False, key=f"cm{stamp}:q0")
    _campaigns(True)
    with_ = _statements(users[1], sku_id, marketing=True, key=f"cm{stamp}:q1")
    added = median(r[1] for r in rows) - median(r[0] for r in rows)
    print(f"median of {args.runs}: {median(r[0] for r in rows):.1f} ms without, {median(r[1] for r in rows):.1f} ms with; "
          f"added {added:.1f} ms per checkout (target ≤ {TARGET_ADDED_MS:.0f} ms); "
          f"SQL statements {without} without, {with_} with (+{with_ - without})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
