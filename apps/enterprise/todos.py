"""Enterprise's to-dos on the workbench home page: sponsored data grants waiting for the
carrier to say whether it applied them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.enterprise.models import SponsoredGrant


def sponsored_unconfirmed() -> int:
    """Grants whose outcome the carrier has not yet told us (asked again every minute)."""
    return SponsoredGrant.objects.filter(status=SponsoredGrant.Status.UNCONFIRMED).count()


def register() -> None:
    register_todo(
        "enterprise.sponsored_unconfirmed",
        _("Sponsored data grants waiting for the carrier to confirm"),
        sponsored_unconfirmed,
        "/admin/enterprise/sponsoredgrant/?status__exact=unconfirmed",
        {Role.OPERATOR},
    )
