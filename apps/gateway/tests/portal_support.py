"""Helpers for the developer-portal tests: a registered or approved partner, an operator."""

from __future__ import annotations

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.gateway.portal import services

LICENCE = "91350100M000100Y43"
OTHER_LICENCE = "9144030071526726XG"


def company(**overrides: str) -> dict[str, str]:
    details = {
        "company_name": "福州示例科技有限公司",
        "contact_name": "王工",
        "contact_phone": "13912345678",
        "contact_email": "dev@example.com",
        "licence_number": LICENCE,
    }
    details.update(overrides)
    return details


def operator():
    return UserFactory(phone="+8613800000099", is_staff=True)


def registered_partner(user=None, **overrides):
    user = user or UserFactory()
    return services.partner_register(user_id=user.pk, **company(**overrides))


def approved_partner(user=None, **overrides):
    partner = registered_partner(user, **overrides)
    reviewer = User.objects.filter(phone="+8613800000099").first() or operator()
    return services.partner_review(partner_id=partner.pk, approve=True, actor_id=reviewer.pk)


def partner_app(partner=None, name="短信通知"):
    partner = partner or approved_partner()
    return services.app_create(user_id=partner.owner_id, name=name).app
