"""Settlement's to-dos on the workbench home page (finance): statements to confirm, statements
that do not tie out, reconciliation differences not yet resolved."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.settlement import selectors


def register() -> None:
    register_todo(
        "settlement.statements_to_confirm",
        _("Statements awaiting confirmation"),
        lambda: selectors.work_counts().statements_awaiting_confirmation,
        "/admin/settlement/statement/?status__exact=draft&tie_out_ok__exact=1",
        {Role.FINANCE},
    )
    register_todo(
        "settlement.statements_not_tied_out",
        _("Statements that do not tie out"),
        lambda: selectors.work_counts().statements_failing_tie_out,
        "/admin/settlement/statement/?status__exact=draft&tie_out_ok__exact=0",
        {Role.FINANCE},
    )
    register_todo(
        "settlement.recon_differences_open",
        _("Reconciliation differences open"),
        lambda: selectors.work_counts().reconciliation_differences_open,
        "/admin/settlement/recondifference/?status__in=open,investigating",
        {Role.FINANCE},
    )
