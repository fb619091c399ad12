"""Transaction blocks for helpers: the caller's transaction, without a savepoint of their own."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.transaction import Atomic


def helper_atomic() -> Atomic:
    """The atomic block of a helper that other services call inside their transactions.

    Alone, it is the helper's own transaction. Inside a caller's transaction it joins it
    without a savepoint (no SAVEPOINT and RELEASE round trips per call): an exception out of
    the helper then dooms the caller's whole transaction, so a caller must not catch one and
    carry on writing (Django refuses further queries if it tries). Under a test case's wrapping
    transaction, the outermost block the code opens keeps its savepoint, as a real transaction
    would roll back on its own.
    """
    connection = transaction.get_connection()
    inside_code_block = connection.in_atomic_block and not all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )
    return transaction.atomic(savepoint=not inside_code_block)


def insert_unless_conflict(obj: Model, *, raw: bool = False) -> Any:
    """INSERT ``obj`` with ``ON CONFLICT DO NOTHING``; return its primary key, or ``None``
    when a unique constraint already held the row (a repeat). ``raw``: the fields as the caller
    set them (no ``auto_now`` overriding times the caller fixed, e.g. ones it signed).

    One statement and no savepoint, where ``create()`` in a savepoint with an ``IntegrityError``
    caught costs three. A concurrent insert of the same key waits for the other transaction and
    then reports the conflict, as the savepoint version did. Sets ``obj.pk`` when inserted.
    """
    opts = obj._meta
    fields = [
        f for f in opts.concrete_fields if not (f.primary_key and getattr(f, "db_returning", False))
    ]
    rows = type(obj)._base_manager._insert(  # type: ignore[attr-defined]
        [obj], fields=fields, returning_fields=[opts.pk], on_conflict=OnConflict.IGNORE, raw=raw
    )
    if not rows or rows[0] is None:
        return None
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = transaction.get_connection().alias
    return obj.pk
