"""Demo subscribers on the carrier's own network, so a fresh sandbox has numbers to log in with,
and the plans and add-ons it sells with the demo lines' plans, bills and data usage."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from apps.sandbox.mobile import OVERAGE_FEN_PER_MB, month_of, next_month
from apps.sandbox.models import BillItem, DataBucket, Offer, PlanTerm, Subscriber

ACTIVE = Subscriber.Status.ACTIVE
# (msisdn, province, city, status, balance_fen, real_name_verified)
DEMO_SUBSCRIBERS: tuple[tuple[str, str, str, str, int, bool], ...] = (
    ("+8613800138000", "广东", "广州", ACTIVE, 2_000_000, True),
    ("+8613900139000", "北京", "北京", ACTIVE, 12000, True),
    ("+8613700137000", "上海", "上海", Subscriber.Status.SUSPENDED, 0, True),
    ("+8613600136000", "浙江", "杭州", Subscriber.Status.CANCELLED, 0, True),
    # The operator's own number for trying the workbench.
    ("+8613800000000", "北京", "北京", ACTIVE, 20000, True),
    ("+8613500135000", "江苏", "南京", ACTIVE, 3000, True),
    ("+8613400134000", "四川", "成都", ACTIVE, 800, True),
    ("+8615000150000", "湖北", "武汉", ACTIVE, 15000, True),
    ("+8615100151000", "湖南", "长沙", ACTIVE, 0, True),
    ("+8615200152000", "山东", "济南", ACTIVE, 6600, True),
    ("+8615700157000", "河南", "郑州", ACTIVE, 250, False),
    ("+8615800158000", "福建", "福州", ACTIVE, 9900, True),
    ("+8615900159000", "陕西", "西安", ACTIVE, 4321, True),
    ("+8618200182000", "重庆", "重庆", ACTIVE, 18000, True),
    ("+8618300183000", "天津", "天津", ACTIVE, 100, True),
    ("+8618700187000", "广东", "深圳", ACTIVE, 7500, True),
    ("+8618800188000", "辽宁", "沈阳", ACTIVE, 2000, False),
    ("+8619800198000", "云南", "昆明", ACTIVE, 11000, True),
    ("+8617800178000", "安徽", "合肥", ACTIVE, 500, True),
    ("+8614700147000", "黑龙江", "哈尔滨", Subscriber.Status.SUSPENDED, 0, True),
)


def seed_subscribers() -> int:
    """Put the demo subscribers in their listed state; return how many were new. Idempotent."""
    created_count = 0
    for msisdn, province, city, status, balance_fen, real_name_verified in DEMO_SUBSCRIBERS:
        _, created = Subscriber.objects.update_or_create(
            msisdn=msisdn,
            defaults={
                "operator": "CMCC",
                "province": province,
                "city": city,
                "status": status,
                "balance_fen": balance_fen,
                "real_name_verified": real_name_verified,
            },
        )
        created_count += created
    return created_count


FIVE_G = ["5G-58", "5G-88", "5G-128", "5G-198"]
# (code, kind, name, fee_fen, data_mb, voice_minutes, on_sale, for_plans): the plans and add-ons
# the demo mall sells (its products carry these codes as ``offer_code``), and one withdrawn plan.
OFFERS: tuple[tuple[str, str, str, int, int, int, bool, list[str]], ...] = (
    ("5G-58", "plan", "5G智享套餐 58元档", 5800, 30720, 200, True, []),
    ("5G-88", "plan", "5G智享套餐 88元档", 8800, 51200, 300, True, []),
    ("5G-128", "plan", "5G智享套餐 128元档", 12800, 81920, 500, True, []),
    ("5G-198", "plan", "5G智享套餐 198元档", 19800, 122880, 1000, True, []),
    ("HUA-29", "plan", "花卡宝藏版 29元", 2900, 15360, 100, True, []),
    ("FAMILY-169", "plan", "全家享套餐 169元", 16900, 102400, 1500, True, []),
    ("SENIOR-18", "plan", "老年关爱套餐 18元", 1800, 3072, 300, True, []),
    ("CAMPUS-39", "plan", "校园青春卡 39元", 3900, 40960, 100, True, []),
    ("4G-38-OLD", "plan", "畅享套餐 38元（已下架）", 3800, 2048, 100, False, []),
    ("ADD-5GB", "addon", "5GB流量叠加包", 1000, 5120, 0, True, []),
    ("ADD-10GB", "addon", "10GB流量叠加包", 2000, 10240, 0, True, []),
    ("ADD-5G-10GB", "addon", "5G流量加油包 10GB 月包", 1500, 10240, 0, True, FIVE_G),
    ("VRBT", "addon", "视频彩铃包月", 500, 0, 0, True, []),
    ("CALLER-ID", "addon", "来电显示", 500, 0, 0, True, []),
    ("VOICE-100", "addon", "语音加油包 100分钟", 1000, 0, 100, True, []),
    ("ROAM-DAY", "addon", "国际漫游日包", 2500, 0, 0, True, []),
    ("CLOUD-200", "addon", "云盘会员 200GB", 1000, 0, 0, True, []),
)
# msisdn -> (plan code, MB used this month): each active demo line has had its plan for three
# months, with last month's and the month before's bills.
DEMO_LINES: dict[str, tuple[str, int]] = {
    "+8613800138000": ("5G-128", 20480),
    "+8613900139000": ("5G-58", 12288),
    "+8613800000000": ("5G-58", 1024),
    "+8613500135000": ("SENIOR-18", 2900),
    "+8613400134000": ("4G-38-OLD", 512),
    "+8615000150000": ("HUA-29", 0),
}


def seed_offers() -> None:
    for sort, (code, kind, name, fee, data_mb, minutes, on_sale, for_plans) in enumerate(OFFERS):
        Offer.objects.update_or_create(
            code=code,
            defaults={"kind": kind, "name": name, "fee_fen": fee, "data_mb": data_mb,
                      "voice_minutes": minutes, "on_sale": on_sale, "for_plans": for_plans,
                      "sort": sort},
        )  # fmt: skip


def seed_mobile() -> int:
    """The offers, and three months of plan, bills and this month's usage for the demo lines
    that have no plan yet; return how many lines were seeded. Idempotent. Balances are left
    as ``DEMO_SUBSCRIBERS`` lists them: the seeded charges are taken as already paid."""
    seed_offers()
    seeded = 0
    this_month = month_of(timezone.localdate())
    last_month = month_of(this_month - timedelta(days=1))
    first_month = month_of(last_month - timedelta(days=1))
    for msisdn, (plan_code, used_mb) in DEMO_LINES.items():
        subscriber = Subscriber.objects.filter(msisdn=msisdn).first()
        if subscriber is None or PlanTerm.objects.filter(subscriber=subscriber).exists():
            continue
        offer = Offer.objects.get(code=plan_code)
        with transaction.atomic():
            PlanTerm.objects.create(subscriber=subscriber, offer=offer, effective_from=first_month)
            for month in (first_month, last_month, this_month):
                BillItem.objects.create(
                    subscriber=subscriber, month=month, kind=BillItem.Kind.PLAN_FEE,
                    description=offer.name, amount_fen=offer.fee_fen, reference=f"month:{month:%Y-%m}",
                )  # fmt: skip
            BillItem.objects.create(
                subscriber=subscriber, month=last_month, kind=BillItem.Kind.TOPUP,
                description="充值缴费", amount_fen=10000, reference="seed",
            )  # fmt: skip
            BillItem.objects.create(
                subscriber=subscriber, month=last_month, kind=BillItem.Kind.USAGE,
                description="套外流量 100MB", amount_fen=100 * OVERAGE_FEN_PER_MB, reference="seed",
            )  # fmt: skip
            DataBucket.objects.create(
                subscriber=subscriber, kind=DataBucket.Kind.PLAN, name=offer.name,
                total_mb=offer.data_mb, used_mb=min(used_mb, offer.data_mb),
                valid_from=_midnight(this_month), valid_until=_midnight(next_month(this_month)),
                reference=f"month:{this_month:%Y-%m}",
            )  # fmt: skip
        seeded += 1
    return seeded


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
