"""Row locks of the simcards app (the number pool): named helpers, several numbers always taken
in number order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

Numbers are locked after the caller's cart or order row and the stock. Several numbers are
taken in ``msisdn`` order (the pool's natural key, unique: the same total order as the primary
key gives, and the order the checkout has always used). The lapsed-hold sweep is the one scan
that takes them oldest hold first, ``SKIP LOCKED``, so it never waits on a buyer. Callers hold a
transaction open; nothing here makes a network call.
"""

from __future__ import annotations

from datetime import datetime

from apps.simcards.models import SimNumber


def number_lock(*, msisdn: str) -> SimNumber | None:
    """Lock one number of the pool; None if there is none."""
    return SimNumber.objects.select_for_update().filter(msisdn=msisdn).first()


def numbers_lock(*, msisdns: list[str]) -> list[SimNumber]:
    """Lock these numbers, in number order."""
    return list(SimNumber.objects.select_for_update().filter(msisdn__in=msisdns).order_by("msisdn"))


def numbers_lock_held_for(*, reference: str) -> list[SimNumber]:
    """Lock the numbers held for an order (``reference``), in number order."""
    return list(
        SimNumber.objects.select_for_update()
        .filter(hold_reference=reference, status=SimNumber.Status.HELD)
        .order_by("msisdn")
    )


def numbers_lock_sold_to_lines(*, line_ids: list[int]) -> list[SimNumber]:
    """Lock the numbers sold to these order lines, in number order."""
    return list(
        SimNumber.objects.select_for_update()
        .filter(order_line_id__in=line_ids, status=SimNumber.Status.SOLD)
        .order_by("msisdn")
    )


def numbers_lock_lapsed_holds(*, now: datetime, limit: int) -> list[SimNumber]:
    """Lock up to ``limit`` cart holds (no order) that lapsed by ``now``, oldest first, skipping
    numbers another transaction holds."""
    return list(
        SimNumber.objects.select_for_update(skip_locked=True)
        .filter(status=SimNumber.Status.HELD, hold_reference="", held_until__lte=now)
        .order_by("held_until")[:limit]
    )
