"""Django's PostgreSQL backend plus a per-transaction buffer of audit events.

``audit_record`` inside a transaction hands its event to the connection instead of running an
INSERT; the connection writes every buffered event with one multi-row INSERT just before the
transaction commits (in the same transaction, so the events still commit or roll back with the
changes they describe). Events recorded inside a savepoint that is rolled back are dropped with
it, as Django drops ``on_commit`` callbacks. Under a test case's wrapping transaction (which
never commits) the outermost block the code itself opened plays the commit: its savepoint's
release writes the events.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base


def _opened_by_tests_only(blocks: list[Any]) -> bool:
    return all(getattr(block, "_from_testcase", False) for block in blocks)


class DatabaseWrapper(base.DatabaseWrapper):
    audit_buffering = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (savepoint ids open when recorded, event), in the order recorded
        self.audit_pending: list[tuple[frozenset[str | None], Any]] = []

    def audit_defers(self) -> bool:
        """Whether an event recorded now waits for the commit (inside a block the code opened)."""
        return self.in_atomic_block and not _opened_by_tests_only(self.atomic_blocks)

    def audit_defer(self, event: Any) -> None:
        self.audit_pending.append((frozenset(self.savepoint_ids), event))

    def audit_flush(self) -> None:
        if not self.audit_pending:
            return
        from apps.core.audit import audit_write

        events = [event for _, event in self.audit_pending]
        self.audit_pending = []
        audit_write(events, using=self.alias)

    def commit(self) -> None:
        if self.audit_pending and self.connection is not None:
            try:
                self.audit_flush()
            except Exception:
                self.audit_pending = []
                raise
        super().commit()

    def savepoint_commit(self, sid: str) -> None:
        # Atomic.__exit__ has already popped the exiting block: if only test-case blocks
        # remain, this release ends the outermost transaction the code opened.
        if self.audit_pending and _opened_by_tests_only(self.atomic_blocks):
            self.audit_flush()
        super().savepoint_commit(sid)

    def savepoint_rollback(self, sid: str) -> None:
        super().savepoint_rollback(sid)
        self.audit_pending = [(sids, e) for sids, e in self.audit_pending if sid not in sids]

    def rollback(self) -> None:
        self.audit_pending = []
        super().rollback()

    def close(self) -> None:
        self.audit_pending = []
        super().close()
