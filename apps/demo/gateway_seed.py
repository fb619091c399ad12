"""Demo data for the capability gateway: packages covering every capability, an approved partner
with a prepaid balance for sponsored data (流量统付)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.accounts.models import User
from apps.enterprise.billing import enterprise_topup
from apps.gateway.capabilities_catalog import CAPABILITIES
from apps.gateway.models import Package, Partner
from apps.gateway.portal import services as portal

DEMO_PARTNER_PHONE = "+8613700137000"
DEMO_OPERATOR_PHONE = "+8613800000000"
# What the demo company has paid in for sponsored data (500.00 yuan), credited once.
DEMO_SPONSOR_TOPUP_FEN = 50_000
DEMO_SPONSOR_TOPUP_REFERENCE = "DEMO-SPONSORED-DATA"


@dataclass(frozen=True)
class DemoPackage:
    code: str
    name: str
    description: str
    capabilities: tuple[str, ...]
    quota_calls: int | None
    quota_period: str
    rate_per_second: int
    price_fen: int
    price_per_call_fen: int


DEMO_PACKAGES = (
    DemoPackage("sandbox-trial", "沙箱试用包", "全部能力免费试用，每天 1,000 次调用，适合联调。",
                tuple(CAPABILITIES), 1_000, "day", 10, 0, 0),
    DemoPackage("messaging-pro", "短信与验证码套餐", "短信群发、状态回执和一次性验证码，每月 10 万次。",
                ("sms", "one-time-password-sms"), 100_000, "month", 100, 49_900, 3),
    DemoPackage("identity-pro", "号码认证与防诈套餐",
                "SIM 卡更换检测、本机号码校验、实名信息核验、年龄核验和位置核验，每月 5 万次。",
                ("sim-swap", "number-verification", "kyc-match", "kyc-age-verification",
                 "location-verification"), 50_000, "month", 50, 99_900, 0),
    DemoPackage("network-pro", "通话、流量、终端状态与话费支付",
                "点击拨号、流量余量查询、流量统付（为用户赠送流量包，从企业预付款扣费）、"
                "漫游与在线状态查询、话费支付和渠道代客下单，按次计费不限量。",
                ("voice", "mobile-data", "sponsored-data", "carrier-billing", "device-roaming-status",
                 "device-reachability-status", "channel-sales"), None, "month", 20, 0, 5),
)  # fmt: skip


def seed_gateway_packages() -> int:
    """Create the demo packages that do not exist yet (operators' later edits are kept)."""
    created = 0
    for demo in DEMO_PACKAGES:
        _, was_created = Package.objects.get_or_create(
            code=demo.code,
            defaults={
                "name": demo.name,
                "description": demo.description,
                "capabilities": list(demo.capabilities),
                "quota_calls": demo.quota_calls,
                "quota_period": demo.quota_period,
                "rate_per_second": demo.rate_per_second,
                "price_fen": demo.price_fen,
                "price_per_call_fen": demo.price_per_call_fen,
            },
        )
        created += was_created
    return created


@transaction.atomic
def seed_gateway_partner() -> bool:
    """An approved demo company, so a visitor can create apps at once (signs in by SMS code).

    Goes through the portal's services, as a real registration and review would. Returns
    whether it was created now.
    """
    user, created = User.objects.get_or_create(
        phone=DEMO_PARTNER_PHONE, defaults={"nickname": "开发者演示"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Partner.objects.filter(owner=user).exists():
        return False
    operator = User.objects.get(phone=DEMO_OPERATOR_PHONE)
    partner = portal.partner_register(
        user_id=user.pk,
        company_name="演示科技有限公司",
        contact_name="演示开发者",
        contact_phone=DEMO_PARTNER_PHONE,
        contact_email="developer@example.com",
        licence_number="91350100M000100Y43",
    )
    portal.partner_review(partner_id=partner.pk, approve=True, actor_id=operator.pk)
    return True


def seed_gateway_sponsor_balance() -> None:
    """Credit the demo company's prepaid account (its owner's enterprise account), so its apps
    can try sponsored data at once. Once: the top-up is idempotent per reference."""
    owner_id = User.objects.get(phone=DEMO_PARTNER_PHONE).pk
    enterprise_topup(
        enterprise_id=owner_id,
        amount_fen=DEMO_SPONSOR_TOPUP_FEN,
        reference=DEMO_SPONSOR_TOPUP_REFERENCE,
        note="演示：流量统付预付款",
        actor_id=None,
    )


def seed_gateway() -> int:
    """Packages, the demo partner and its prepaid balance; returns how many packages were
    created."""
    created = seed_gateway_packages()
    seed_gateway_partner()
    seed_gateway_sponsor_balance()
    return created
