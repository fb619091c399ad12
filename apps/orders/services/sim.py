"""Checkout of SIM cards: the buyer's real-name check, made before the checkout's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from apps.catalog.selectors import skus_for_sale
from apps.orders.models import CartLine, Order
from apps.simcards import services as simcards
from apps.simcards.selectors import SIM_TYPE_CODE


@dataclass(frozen=True)
class RealNameInput:
    """The name and ID number a SIM card's buyer enters at checkout."""

    name: str
    id_number: str


def sim_owner_check(
    *, user_id: int, checkout_key: str, real_name: RealNameInput | None
) -> simcards.VerifiedOwner | None:
    """When the user's cart holds a SIM card, check the buyer's identity with the carrier
    (network call; the caller has no transaction open). None when no identity was given, the
    cart has no SIM card or the checkout already happened (a repeat submit returns the order
    without a new check).
    """
    if real_name is None:
        # Nothing to check with the carrier: a cart with a SIM card is refused in the checkout's
        # transaction (``RealNameRequired``), which reads the cart anyway; reading it here too
        # cost three statements on every checkout.
        return None
    if Order.objects.filter(checkout_key=checkout_key).exists():
        return None
    sku_ids = list(CartLine.objects.filter(cart__user_id=user_id).values_list("sku_id", flat=True))
    if not any(s.type_code == SIM_TYPE_CODE for s in skus_for_sale(sku_ids=sku_ids).values()):
        return None
    return simcards.owner_verify(
        name=real_name.name, id_number=real_name.id_number, user_id=user_id
    )
