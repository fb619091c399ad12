"""Demo subscribers on the carrier's own network, so a fresh sandbox has numbers to log in with."""

from __future__ import annotations

from apps.sandbox.models import Subscriber

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
