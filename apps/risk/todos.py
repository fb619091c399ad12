"""Risk's to-dos on the workbench home page: open cases and the review queue."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.workbench import register_todo
from apps.risk import selectors

# The role group's name (apps.accounts.models.Role.RISK): accounts is above risk.
RISK_ROLE = "risk"


def register() -> None:
    register_todo(
        "risk.open_cases",
        _("Open risk cases"),
        selectors.open_cases_count,
        "/admin/risk/case/?status__exact=open",
        {RISK_ROLE},
    )
    register_todo(
        "risk.review_queue",
        _("Held for risk review"),
        selectors.review_queue_length,
        "/admin/risk/hold/?status__exact=held",
        {RISK_ROLE},
    )
