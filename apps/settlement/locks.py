"""Settlement's row locks. Settlement locks its own rows first and posts to the ledger after,
which is last in the global order (apps/core/locks.py): batch → statement → ledger."""

from __future__ import annotations

from apps.settlement.models import SettlementBatch, Statement


def batch_lock(batch_id: int) -> SettlementBatch:
    return SettlementBatch.objects.select_for_update().get(pk=batch_id)


def statement_lock(statement_id: int) -> Statement | None:
    return Statement.objects.select_for_update().filter(pk=statement_id).first()
