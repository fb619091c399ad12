"""Demo data for content billing: an approved CP with a product of each kind and billing mode
(two with a second price point), and the published API key the sandbox's demo CP app (``/cp-app/``) signs its calls with."""

from __future__ import annotations

from django.conf import settings

from apps.accounts.models import User
from apps.content import services
from apps.content.models import ContentProduct, PricePoint, SigningKey
from apps.content.selectors import cp_of_user

DEMO_CP_PHONE = "+8613900139000"
DEMO_OPERATOR_PHONE = "+8613800000000"
# Published like the demo password: the sandbox's demo CP app has the same two values.
DEMO_CP_KEY_ID = "cpdemo_app"
DEMO_CP_SECRET = "carrierhub-demo-cp-secret-0123456789"  # noqa: S105 - a published demo key
CHAPTERS = [
    (f"第{n}章 星门", f"这是《星际远航》第{n}章的正文。\n舰队穿过星门，远方的光越来越近。")
    for n in range(1, 6)
]
PRODUCTS = (
    ("game", "星际远航：钻石礼包", "游戏内 600 钻石", 600, "one_off", 0, "DEMO-GAME-1"),
    ("video", "星河视频 VIP 月卡", "海量高清影视，7 天免费试用", 1500, "monthly", 7, "DEMO-VIDEO-1"),
    ("reading", "星际远航（小说）", "按章购买，第一章免费", 20, "per_chapter", 0, "DEMO-READ-1"),
    ("music", "星河音乐包月", "无损音乐畅听", 800, "monthly", 0, "DEMO-MUSIC-1"),
    ("animation", "星河动漫：第一季", "整季买断", 1200, "one_off", 0, "DEMO-ANIM-1"),
)  # fmt: skip
# Further price points (product's billing code, label, price, the price point's billing code).
PRICE_POINTS = (
    ("DEMO-GAME-1", "钻石大礼包", 3000, "DEMO-GAME-1-L"),
    ("DEMO-ANIM-1", "典藏版", 2000, "DEMO-ANIM-1-C"),
)


def seed_content() -> int:
    """Create the demo CP, its products and its key where missing; returns new products.
    The products notify the sandbox's demo CP app (the sandbox serves ``/cp-app/``)."""
    notify_url = settings.CARRIER_BASE_URL.rstrip("/") + "/cp-app/notify"
    member = User.objects.get(phone=DEMO_CP_PHONE)
    operator = User.objects.get(phone=DEMO_OPERATOR_PHONE)
    cp = cp_of_user(user_id=member.pk)
    if cp is None:
        cp = services.cp_register(user_id=member.pk, name="星河数字娱乐有限公司", licence_number="DEMO-ICP-2026-0001",
                                  bank_account="6222 0000 1111 2222", contact_name="陈星", contact_phone="13900139000")  # fmt: skip
        services.cp_review(cp_id=cp.pk, decision="approve", actor_id=operator.pk)
    created = 0
    for kind, title, description, price, mode, trial, code in PRODUCTS:
        if ContentProduct.objects.filter(cp=cp, billing_code=code).exists():
            continue
        product = services.product_create(
            cp_id=cp.pk, actor_id=member.pk, kind=kind, title=title, description=description, price_fen=price,
            billing_mode=mode, billing_code=code, notify_url=notify_url, trial_days=trial,
            chapters=CHAPTERS if mode == "per_chapter" else None,
        )  # fmt: skip
        services.product_review(product_id=product.pk, decision="approve", actor_id=operator.pk)
        created += 1
    for product_code, label, price, code in PRICE_POINTS:
        product = ContentProduct.objects.get(cp=cp, billing_code=product_code)
        if PricePoint.objects.filter(cp=cp, billing_code=code).exists():
            continue
        point = services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=member.pk, label=label,
                                         price_fen=price, billing_code=code)  # fmt: skip
        services.price_point_review(price_point_id=point.pk, approve=True, actor_id=operator.pk)
    if not SigningKey.objects.filter(key_id=DEMO_CP_KEY_ID).exists():
        services.cp_key_issue(
            cp_id=cp.pk, actor_id=None, demo_secret=DEMO_CP_SECRET, key_id=DEMO_CP_KEY_ID
        )
    return created
