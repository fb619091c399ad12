"""Row locks of the mobile app (the subscriber's own line requests): named helpers.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

A line request hangs off its user and is locked on its own, one at a time, never during the
carrier call. Callers hold a transaction open; nothing here makes a network call.
"""

from __future__ import annotations

from apps.mobile.models import LineRequest


def line_request_lock(*, request_id: int) -> LineRequest:
    """Lock one line request (``LineRequest.DoesNotExist`` if there is none)."""
    return LineRequest.objects.select_for_update().get(pk=request_id)
