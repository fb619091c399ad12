"""Who wants to know that a physical order line was delivered (the SIM activation, say)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

_delivered_listeners: list[Callable[[int], None]] = []


def line_delivered_listen(callback: Callable[[int], None]) -> None:
    """``callback(order_line_id)`` runs after the transaction that marked a physical line
    delivered commits (never on rollback), once per delivery. Register it in ``ready()``.

    It runs outside any transaction, so it may enqueue tasks or call out; it should be quick
    and idempotent per line id, since a failure is logged and not retried here.
    """
    if callback not in _delivered_listeners:
        _delivered_listeners.append(callback)


def _announce(callback: Callable[[int], None], line_id: int) -> None:
    try:
        callback(line_id)
    except Exception:
        # One listener's failure must not hide the delivery from the others, nor fail the
        # request that committed it.
        logger.exception("line delivered listener %r failed for line %s", callback, line_id)


def line_delivered_announce(*, line_id: int) -> None:
    """Tell every listener, on commit, that the physical line ``line_id`` was delivered.

    Called by the order line's transition to ``delivered`` (inside its transaction)."""
    for callback in list(_delivered_listeners):
        transaction.on_commit(partial(_announce, callback, line_id))
