"""Seed risk control: velocity counters and caps, 23 rules (most active, some in shadow), a few
list entries. Idempotent: keyed by cap code, rule code and list value."""

from __future__ import annotations

from apps.risk import services as risk
from apps.risk.models import Cap, ListEntry, Rule

# code, kinds, dimension, window, metric, limit (None: a counter the rules read)
CAPS = [
    ("otp-msisdn-hour", ["otp_request"], "msisdn", "hour", "count", 20),
    ("otp-ip-hour", ["otp_request"], "ip", "hour", "count", None),
    ("signin-msisdn-hour", ["sign_in"], "msisdn", "hour", "count", None),
    ("checkout-user-hour", ["checkout"], "user_id", "hour", "count", None),
    ("checkout-user-day-amount", ["checkout"], "user_id", "day", "amount", None),
    ("pay-user-hour", ["payment_start"], "user_id", "hour", "count", None),
    ("bill-msisdn-hour", ["phone_bill_charge"], "msisdn", "hour", "count", None),
    ("gw-sms-partner-minute", ["gateway_sms"], "partner_id", "minute", "count", None),
    ("gw-sms-msisdn-hour", ["gateway_sms"], "msisdn", "hour", "count", 30),
    ("gw-bill-partner-day-amount", ["gateway_billing"], "partner_id", "day", "amount", None),
    ("card-user-hour", ["card_redemption"], "user_id", "hour", "count", 10),
    ("refund-user-day", ["refund_request"], "user_id", "day", "count", None),
    ("sim-id-day", ["sim_purchase"], "id_hash", "day", "count", None),
    ("content-cp-minute", ["content_charge"], "cp_id", "minute", "count", None),
    # The content phone-bill caps (were apps/content/limits.py; risk migration 0004 seeds them
    # with the same limits, so these rows only matter on a database where they were removed).
    ("content-user-day", ["content_charge"], "user_id", "day", "amount", 200_00),
    ("content-user-month", ["content_charge"], "user_id", "month", "amount", 500_00),
    ("content-cp-day", ["content_charge"], "cp_id", "day", "amount", 10_000_000_00),
]

VIRTUAL = "['170', '171', '162', '165', '167']"
# code, state, kinds, expression, outcome, reason code, description
RULES = [
    (
        "otp-burst-number",
        "active",
        ["otp_request"],
        'counters["otp-msisdn-hour"] > 8',
        "block",
        "OTP_BURST_NUMBER",
        "短时间内向同一号码发送过多验证码",
    ),
    (
        "otp-burst-ip",
        "active",
        ["otp_request"],
        'counters["otp-ip-hour"] > 30',
        "block",
        "OTP_BURST_IP",
        "同一IP请求验证码过多",
    ),
    (
        "signin-many-tries",
        "active",
        ["sign_in"],
        'counters["signin-msisdn-hour"] > 15',
        "block",
        "SIGNIN_MANY_TRIES",
        "同一号码登录尝试过多",
    ),
    (
        "signin-watched-device",
        "shadow",
        ["sign_in"],
        '"device" in watch',
        "block",
        "SIGNIN_WATCHED_DEVICE",
        "观察名单设备登录",
    ),
    (
        "signin-night",
        "shadow",
        ["sign_in"],
        "hour < 5",
        "block",
        "SIGNIN_NIGHT",
        "凌晨登录（观察）",
    ),
    (
        "bill-virtual-prefix",
        "active",
        ["phone_bill_charge"],
        f"msisdn_prefix in {VIRTUAL} and amount_fen > 5000",
        "review",
        "BILL_VIRTUAL_PREFIX",
        "虚商号段大额话费支付",
    ),
    (
        "bill-night-big",
        "active",
        ["phone_bill_charge"],
        "hour < 6 and amount_fen > 10000",
        "challenge",
        "BILL_NIGHT_BIG",
        "夜间大额话费支付需验证",
    ),
    (
        "bill-velocity",
        "active",
        ["phone_bill_charge"],
        'counters["bill-msisdn-hour"] > 10',
        "challenge",
        "BILL_VELOCITY",
        "话费支付过于频繁",
    ),
    (
        "bill-watched",
        "active",
        ["phone_bill_charge"],
        '"msisdn" in watch and amount_fen > 3000',
        "challenge",
        "BILL_WATCHED",
        "观察名单号码话费支付",
    ),
    (
        "bill-high-score",
        "active",
        ["phone_bill_charge"],
        "score >= 30",
        "challenge",
        "BILL_HIGH_SCORE",
        "风险分高",
    ),
    (
        "checkout-velocity",
        "active",
        ["checkout"],
        'counters["checkout-user-hour"] > 20',
        "review",
        "CHECKOUT_VELOCITY",
        "下单过于频繁",
    ),
    (
        "checkout-big",
        "active",
        ["checkout"],
        "amount_fen > 2000000",
        "review",
        "CHECKOUT_BIG",
        "单笔订单金额过大",
    ),
    (
        "checkout-day-amount",
        "active",
        ["checkout"],
        'counters["checkout-user-day-amount"] > 5000000',
        "review",
        "CHECKOUT_DAY_AMOUNT",
        "当日下单金额过大",
    ),
    (
        "pay-velocity",
        "active",
        ["payment_start"],
        'counters["pay-user-hour"] > 30',
        "block",
        "PAY_VELOCITY",
        "支付发起过于频繁",
    ),
    (
        "pay-high-score",
        "active",
        ["payment_start"],
        "score >= 30",
        "review",
        "PAY_HIGH_SCORE",
        "风险分高的支付",
    ),
    (
        "gw-sms-flood",
        "active",
        ["gateway_sms"],
        'counters["gw-sms-partner-minute"] > 600',
        "block",
        "GW_SMS_FLOOD",
        "合作方短信突增",
    ),
    (
        "gw-bill-partner-day",
        "active",
        ["gateway_billing"],
        'counters["gw-bill-partner-day-amount"] > 10000000',
        "block",
        "GW_BILL_PARTNER_DAY",
        "合作方当日计费过大",
    ),
    (
        "card-velocity",
        "active",
        ["card_redemption"],
        'counters["card-user-hour"] > 5',
        "block",
        "CARD_VELOCITY",
        "充值卡兑换过于频繁",
    ),
    (
        "refund-many",
        "active",
        ["refund_request"],
        'counters["refund-user-day"] > 3',
        "review",
        "REFUND_MANY",
        "当日退款申请过多",
    ),
    (
        "refund-big",
        "active",
        ["refund_request"],
        "amount_fen > 500000",
        "review",
        "REFUND_BIG",
        "大额退款",
    ),
    (
        "sim-many-per-id",
        "active",
        ["sim_purchase"],
        'counters["sim-id-day"] > 2',
        "review",
        "SIM_MANY_PER_ID",
        "同一证件当日购卡过多",
    ),
    (
        "content-night-cp",
        "active",
        ["content_charge"],
        'hour >= 1 and hour < 5 and counters["content-cp-minute"] > 100',
        "challenge",
        "CONTENT_NIGHT_CP",
        "内容商夜间集中扣费",
    ),
    (
        "content-near-day-cap",
        "active",
        ["content_charge"],
        'counters["content-user-day"] > 15000',
        "challenge",
        "CONTENT_NEAR_DAY_CAP",
        "当日内容扣费接近上限，需短信确认",
    ),
    (
        "content-big",
        "shadow",
        ["content_charge"],
        "amount_fen > 3000",
        "challenge",
        "CONTENT_BIG",
        "大额内容扣费（观察）",
    ),
]

LISTS = [
    ("block", "msisdn", "13800000666", "演示：欺诈号码"),
    ("watch", "device", "demo-emulator-01", "演示：模拟器设备"),
    ("block", "ip", "203.0.113.0/24", "演示：代理IP段"),
]


def seed_risk() -> int:
    """Returns the number of rules made."""
    for code, kinds, dimension, window, metric, limit in CAPS:
        if not Cap.objects.filter(code=code).exists():
            cap = Cap(
                code=code,
                kinds=kinds,
                dimension=dimension,
                window=window,
                metric=metric,
                limit=limit,
            )
            risk.cap_saved(cap=cap, actor_id=None)
    made = 0
    for code, state, kinds, expression, outcome, reason, description in RULES:
        if Rule.objects.filter(code=code).exists():
            continue
        rule = risk.rule_create(code=code, expression=expression, outcome=outcome, reason_code=reason, kinds=kinds,
                                description=description, actor_id=None, why="demo seed")  # fmt: skip
        risk.rule_transition(rule_id=rule.pk, to=state, actor_id=None, why="demo seed")
        made += 1
    for action, dimension, value, reason in LISTS:
        if not ListEntry.objects.filter(dimension=dimension, value=value).exists():
            risk.list_entry_add(
                action=action,
                dimension=dimension,
                value=value,
                reason=reason,
                source="demo",
                actor_id=None,
            )
    return made
