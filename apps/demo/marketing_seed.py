"""Demo marketing: campaigns of each rule, a claimable coupon batch, a flash sale, a channel."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Sku
from apps.marketing import services
from apps.marketing.models import (
    Campaign,
    Channel,
    ChannelCode,
    CommissionRule,
    CouponBatch,
    FlashSale,
)


def seed_marketing() -> int:
    """Add the demo campaigns once (by name); returns how many campaigns were added."""
    now = timezone.now()
    window = {
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=90),
        "status": "active",
    }
    added = 0
    for name, fields in (
        ("新用户首单立减5元", {"rule": "fixed", "amount_fen": 500, "first_order_only": True, "budget_fen": 1_000_000}),
        ("流量包满30减3", {"rule": "full_reduction", "category_paths": ["electronic/data"], "threshold_fen": 3000,
                        "amount_fen": 300, "budget_fen": 500_000}),
        ("数字内容9折（最多减10元）", {"rule": "percent", "category_paths": ["digital"], "percent_off": 10,
                                "cap_fen": 1000}),
        ("购物送积分", {"rule": "gift_points", "gift_points": 100, "threshold_fen": 5000}),
        ("双十二优惠券", {"rule": "fixed", "amount_fen": 1000, "coupon_only": True, "budget_fen": 200_000}),
    ):  # fmt: skip
        if not Campaign.objects.filter(name=name).exists():
            Campaign.objects.create(name=name, **window, **fields)
            added += 1
    coupon = Campaign.objects.get(name="双十二优惠券")
    if not CouponBatch.objects.filter(campaign=coupon).exists():
        services.coupon_batch_create(
            campaign_id=coupon.pk, name="满减券 10元", count=200, per_user_limit=1,
            valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=90),
        )  # fmt: skip
    sku = (
        Sku.objects.filter(product__category__path__startswith="digital", is_active=True)
        .order_by("pk")
        .first()
    )
    if sku is not None and not FlashSale.objects.exists():
        FlashSale.objects.create(
            name=f"秒杀：{sku.product.name}", sku_id=sku.pk, price_fen=max(1, sku.price_fen // 10), stock=100,
            per_user_limit=1, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=7),
        )  # fmt: skip
    if not Channel.objects.exists():
        owner = User.objects.filter(phone="+8613900139001").first()
        channel = Channel.objects.create(
            name="校园代理演示", owner_user_id=owner.pk if owner else None
        )
        ChannelCode.objects.create(channel=channel, code="campus", label="校园海报二维码")
        CommissionRule.objects.create(
            channel=channel, product_kind="*", mode="percent", percent="5"
        )
    return added
