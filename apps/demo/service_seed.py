"""Seed the help centre's FAQs (idempotent: keyed by question)."""

from __future__ import annotations

from apps.service.models import FaqEntry

FAQS = [
    (
        "recharge",
        "话费充值多久到账？",
        "一般10分钟内到账。高峰期可能延迟，超过2小时未到账请在订单页联系客服。",
    ),
    (
        "recharge",
        "可以给其他运营商的号码充值吗？",
        "本商城只能为中国移动号码充值；输入号码时会显示号码的运营商和归属地。",
    ),
    ("recharge", "流量包什么时候生效？", "购买后即时生效，有效期从生效时起计算。"),
    ("orders", "支持哪些支付方式？", "支付宝、微信支付、银联卡、话费支付和积分抵扣。"),
    (
        "orders",
        "订单多久未支付会取消？",
        "下单后30分钟内未支付，订单自动取消，库存和选中的号码会释放。",
    ),
    (
        "delivery",
        "买号卡需要实名吗？",
        "按规定，号卡须实名登记；下单时填写机主姓名和身份证号，我们向运营商核验。",
    ),
    ("delivery", "实物商品多久发货？", "一般48小时内发货，可在订单页查看物流。"),
    ("refunds", "怎么申请退款？", "在订单详情页申请退款；已到账的话费和流量需客服核实后处理。"),
    (
        "invoices",
        "怎么开电子发票？",
        "订单支付后，在订单详情页点击“申请发票”，选择个人或企业抬头；财务开具后可在“我的发票”下载PDF。",
    ),
    ("account", "积分怎么用？", "结算时1积分抵1分钱；在“我的积分”查看余额、明细和可兑换的商品。"),
]


def seed_faqs() -> int:
    """Create the FAQs that are missing; returns how many were created."""
    created = 0
    for sort, (topic, question, answer) in enumerate(FAQS):
        _, made = FaqEntry.objects.get_or_create(
            question=question, defaults={"topic": topic, "answer": answer, "sort": sort}
        )
        created += made
    return created
