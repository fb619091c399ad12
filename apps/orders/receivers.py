"""Signal receivers: the sign-in signal triggers the cart merge service (logic lives there)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.orders.services import cart_merge


def merge_guest_cart(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Django keeps the session's data across login but cycles its key, so the guest key was
    # kept in the session data (see selectors.cart_owner), which login carries over.
    key = request.session.get("guest_cart_key") if request is not None else None
    if key:
        cart_merge(session_key=key, user_id=user.pk)
        request.session.pop("guest_cart_key", None)  # type: ignore[union-attr]
