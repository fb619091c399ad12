"""Row locks of the orders app (carts, orders, order lines): named helpers, rows taken in
primary-key order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

A user's checkouts run one at a time under the user's row; adds, changes and the checkout meet
on the cart row, so a checkout sees every add acknowledged before it and an add that waited
for a checkout lands in the cart the checkout left (the cart row is never deleted under a user).
Callers hold a transaction open; nothing here makes a network call.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.orders.models import Cart, Order, OrderLine


def user_lock(*, user_id: int) -> None:
    """Lock the buyer's user row (one checkout per user at a time)."""
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk").first()


def cart_lock(
    *, user_id: int | None = None, session_key: str | None = None, touch: bool = False
) -> Cart:
    """Lock the owner's cart row, creating the cart on first use (the new row is locked by its
    insert; a racing creator waits for it, then locks the row that won). With ``touch`` (an
    add) the lock is an UPDATE of ``updated_at``: locked and marked used in one statement."""
    lookup = {"user_id": user_id} if user_id else {"session_key": session_key}
    if not any(lookup.values()):
        raise ValueError("a cart needs a user or a session")
    for _attempt in range(3):
        if touch:
            cart = _cart_touch(user_id=user_id, session_key=session_key)
        else:
            cart = Cart.objects.select_for_update().filter(**lookup).first()
        if cart is not None:
            return cart
        try:
            with transaction.atomic():
                return Cart.objects.create(**lookup)
        except IntegrityError:
            continue  # created meanwhile: lock that one
    raise RuntimeError(f"cart for {lookup} neither found nor created")


def _cart_touch(*, user_id: int | None, session_key: str | None) -> Cart | None:
    """``UPDATE … SET updated_at = now RETURNING``: the owner's cart (one per owner: both
    columns are unique), its row locked by the update; None when it has none."""
    column, value = ("user_id", user_id) if user_id else ("session_key", session_key)
    table = connection.ops.quote_name(Cart._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s WHERE {connection.ops.quote_name(column)} = %s "  # noqa: S608
            "RETURNING id, user_id, session_key, updated_at",
            [timezone.now(), value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    cart = Cart(id=row[0], user_id=row[1], session_key=row[2], updated_at=row[3])
    cart._state.adding = False
    cart._state.db = connection.alias
    return cart


def guest_carts_lock_idle(*, idle_before: datetime, limit: int) -> list[int]:
    """Lock guest carts (no user) not touched since ``idle_before``, in primary-key order,
    skipping any a running add holds; returns their ids."""
    return list(
        Cart.objects.select_for_update(skip_locked=True)
        .filter(user__isnull=True, updated_at__lt=idle_before)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def carts_lock(*, cart_ids: list[int]) -> list[Cart]:
    """Lock several carts (a guest's and the user's at sign-in) in primary-key order."""
    return list(Cart.objects.select_for_update().filter(pk__in=cart_ids).order_by("pk"))


def order_lock(
    *, number: str, user_id: int | None = None, skip_locked: bool = False
) -> Order | None:
    """Lock an order row by its number (and owner, when given); None when there is none (or,
    with ``skip_locked``, when another transaction holds it)."""
    qs = Order.objects.select_for_update(skip_locked=skip_locked).filter(number=number)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    return qs.first()


def order_lines_lock(lines: QuerySet[OrderLine]) -> list[OrderLine]:
    """Lock these order lines in primary-key order (after their order: order, then lines)."""
    return list(lines.select_for_update().order_by("pk"))


def order_line_lock(*, line_id: int) -> OrderLine:
    """Lock one order line (not its order, which is read along) for its delivery summary."""
    return OrderLine.objects.select_for_update(of=("self",)).select_related("order").get(pk=line_id)
