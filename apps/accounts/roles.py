"""What each role may do in the workbench, kept in step with the auth groups after migrate."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from django.contrib.auth.models import Group, Permission

from apps.accounts.models import Role

# Patterns over "app_label.codename". Staff status (workbench access) is granted per user.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OPERATOR: [
        "catalog.*",
        "orders.view_*",
        "orders.change_order",
        "payments.view_*",
        "payments.query_paymentintent",
        "ledger.view_*",
        "fulfilment.*",
        "accounts.view_user",
        "accounts.change_user",
        "accounts.view_realnameidentity",
        "accounts.view_otpchallenge",
        "accounts.view_apitoken",
        "accounts.change_apitoken",
        "carrier.view_*",
        "core.view_auditevent",
        "core.view_deadletter",
        "core.change_deadletter",
        # Capability gateway: review partners and production access, define packages,
        # revoke credentials; partner data itself is only changed through actions.
        "gateway.view_*",
        "gateway.change_partner",
        "gateway.change_app",
        "gateway.change_credential",
        "gateway.add_package",
        "gateway.change_package",
        # Enterprise: batches, top-ups and sponsored data grants to look at (an unconfirmed
        # grant is a to-do); a partner's sponsored data limits to set.
        "enterprise.view_*",
        "enterprise.add_sponsoragreement",
        "enterprise.change_sponsoragreement",
    ],
    Role.FINANCE: [
        "catalog.view_*",
        "orders.view_*",
        "payments.view_*",
        "payments.change_refund",
        "payments.query_paymentintent",
        "ledger.view_*",
        "carrier.view_*",
        "core.view_auditevent",
        "accounts.view_user",
        # Settlement: statements, batches, rules, reconciliation, report exports.
        "settlement.*",
    ],
    Role.RISK: [
        "payments.view_*",
        "payments.query_paymentintent",
        "orders.view_*",
        "accounts.view_user",
        "accounts.view_realnameidentity",
        "core.view_auditevent",
        "risk.*",
        # A case about a content provider links to it; risk reads, content's reviewers act.
        "content.view_contentprovider",
        "content.view_contentproduct",
        "content.view_charge",
        # Subscribers' "I did not order this" about a content charge: refund or reject.
        "content.view_complaint",
        "content.change_complaint",
    ],
    Role.CP_REVIEWER: [
        "catalog.view_*",
        "content.*",
        "core.view_auditevent",
    ],
    Role.PARTNER_REVIEWER: [
        "gateway.view_*",
        "gateway.change_partner",
        "gateway.change_app",
        "core.view_auditevent",
    ],
}


def roles_sync(**kwargs: Any) -> None:
    """Create the role groups and give them exactly their permissions (idempotent).

    Connected to ``post_migrate``, which runs once per app; each run sees the permissions
    created so far, and the last one sees them all.
    """
    permissions = list(Permission.objects.select_related("content_type"))
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        patterns = ROLE_PERMISSIONS.get(role, [])
        wanted = [
            p for p in permissions
            if any(fnmatch(f"{p.content_type.app_label}.{p.codename}", pattern) for pattern in patterns)
        ]  # fmt: skip
        group.permissions.set(wanted)
