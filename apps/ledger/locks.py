"""The ledger's row locks. The ledger is last in the global order (user → order → stock →
payment → ledger, see apps/core/locks.py): nothing is locked after a balance row."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.ledger.models import AccountBalance


def balances_lock(account_ids: list[int]) -> QuerySet[AccountBalance]:
    """The accounts' balance rows, locked in ascending account id (the ledger's one order)."""
    return (
        AccountBalance.objects.select_for_update()
        .filter(account_id__in=account_ids)
        .order_by("account_id")
    )
