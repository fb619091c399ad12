"""Which workbench roles a staff member holds (the home page's sections, the pages' access)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Role

# The workbench roles, in the order of the home page's sections.
WORKBENCH_ROLES = [
    Role.OPERATOR,
    Role.FINANCE,
    Role.RISK,
    Role.CP_REVIEWER,
    Role.PARTNER_REVIEWER,
]


def user_roles(user: Any) -> list[str]:
    """The workbench roles of ``user`` in section order; all of them for a superuser."""
    if not user.is_active or not user.is_staff:
        return []
    if user.is_superuser:
        return [str(r) for r in WORKBENCH_ROLES]
    names = set(user.groups.values_list("name", flat=True))
    return [str(r) for r in WORKBENCH_ROLES if r in names]
