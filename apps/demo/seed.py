"""Idempotent demo data: staff logins for the workbench and a few consumers."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import Role, StaffTotpDevice, User
from apps.accounts.staff_auth import totp_enrol_with_secret
from apps.enterprise.billing import enterprise_topup
from apps.payments.services import points_grant

# Demo staff sign in at /admin/ with a password and an authenticator code (`manage.py
# totp_code <phone>` prints it); consumers sign in with an SMS code.
DEMO_POINTS = 1_000_000  # ¥10,000: enough to pay for any demo product in points
DEMO_PREPAID_FEN = 100_000  # ¥1,000 on the demo enterprise's prepaid account, for bulk packs
DEMO_PASSWORD = "carrierhub-demo"  # noqa: S105 - a published demo login, never used in production
# The demo staff's authenticator secret, published like the password (scan it or use totp_code).
DEMO_TOTP_SECRET = "CARRIERHUBDEMOSTAFFTOTP234567ABC"  # noqa: S105


@dataclass(frozen=True)
class DemoUser:
    phone: str
    nickname: str
    roles: tuple[str, ...]
    staff: bool = False
    superuser: bool = False


DEMO_USERS = (
    DemoUser("+8613800000000", "运营管理员", (Role.OPERATOR,), staff=True, superuser=True),
    DemoUser("+8613800000001", "财务", (Role.FINANCE,), staff=True),
    # Workbench roles of the analytics home page (issue 16).
    DemoUser("+8613800000002", "风控", (Role.RISK,), staff=True),
    DemoUser("+8613800000003", "内容审核", (Role.CP_REVIEWER,), staff=True),
    DemoUser("+8613800000004", "合作伙伴审核", (Role.PARTNER_REVIEWER,), staff=True),
    DemoUser("+8613800138000", "演示用户", (Role.CONSUMER,)),
    DemoUser("+8613900139000", "内容提供商演示", (Role.CONTENT_PROVIDER, Role.CONSUMER)),
    DemoUser("+8613900139001", "企业演示", (Role.ENTERPRISE,)),
)


@transaction.atomic
def seed_users() -> int:
    """Create the demo users that do not exist yet; return how many were created."""
    created = 0
    for demo in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            phone=demo.phone,
            defaults={
                "nickname": demo.nickname,
                "is_staff": demo.staff,
                "is_superuser": demo.superuser,
            },
        )
        if was_created:
            created += 1
            if demo.staff:
                user.set_password(DEMO_PASSWORD)
            else:
                user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=demo.roles))
        if demo.staff and not StaffTotpDevice.objects.filter(user=user).exists():
            totp_enrol_with_secret(user_id=user.pk, secret=DEMO_TOTP_SECRET)
        if Role.CONSUMER in demo.roles:
            # Idempotent per key (with the amount, so that a changed grant adds, not conflicts).
            points_grant(
                user_id=user.pk,
                points=DEMO_POINTS,
                key=f"demo:{demo.phone}:{DEMO_POINTS}",
                reason="演示积分",
            )
        if Role.ENTERPRISE in demo.roles:
            enterprise_topup(enterprise_id=user.pk, amount_fen=DEMO_PREPAID_FEN,
                             reference=f"DEMO-{demo.phone[1:]}-{DEMO_PREPAID_FEN}", actor_id=None)  # fmt: skip
    return created
