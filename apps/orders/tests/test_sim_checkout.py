"""Checking out a SIM card: the owner's real-name check at the carrier, the hold moved onto the
order, the sale on payment, and the number given back when the order is cancelled or expires."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.errors import InvalidIdNumber
from apps.accounts.models import User
from apps.core.crypto import decrypt_text
from apps.orders import selectors as order_selectors
from apps.orders import services as orders
from apps.orders.models import CartLine, Order, OrderLine
from apps.orders.services import CartOwner, RealNameInput, ShippingAddress
from apps.payments import services as payments
from apps.simcards.errors import (
    IdNumberLimitReached,
    NumberOnYourOrder,
    RealNameMismatch,
    RealNameRequired,
)
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product, unique_id_number

pytestmark = pytest.mark.django_db
PRETTY = "+8613800138888"
ADDRESS = ShippingAddress(name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号")  # fmt: skip


@pytest.fixture
def owner() -> RealNameInput:
    """张三 with an ID no other test used: the sandbox's register lasts the whole session."""
    return RealNameInput(name="张三", id_number=unique_id_number())


@pytest.fixture
def sim(carrier_sandbox):
    numbers("13800138888", "13800135201")
    return sim_product(price=1000)


@pytest.fixture
def buyer():
    user = User.objects.create_user("13800138000")
    payments.points_grant(user_id=user.pk, points=1_000_000, key=f"sim{user.pk}", reason="test")
    return user


def _add(user, sim, number=PRETTY):
    orders.cart_add(owner=CartOwner(user_id=user.pk), sku_id=sim.skus.get().pk, sim_number=number)


def _checkout(user, real_name, key="k", points=0):
    return orders.checkout_submit(
        user_id=user.pk, checkout_key=key, shipping=ADDRESS, points=points, real_name=real_name
    )


def test_checkout_holds_the_number_for_the_order_at_the_price_with_its_premium(sim, buyer, owner):
    _add(buyer, sim)
    order = _checkout(buyer, owner)
    (line,) = order.lines
    assert (line.recipient, line.unit_price_fen, order.goods_fen) == (PRETTY, 100_900, 100_900)
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.hold_reference, number.order_line_id) == (
        "held", f"order:{order.number}", line.id,
    )  # fmt: skip
    assert number.held_until == Order.objects.get(number=order.number).expires_at
    masked = owner.id_number[:4] + "*" * 10 + owner.id_number[-4:]
    assert (number.owner_name, number.owner_id_masked) == ("张三", masked)
    assert decrypt_text(number.owner_id_encrypted) == owner.id_number
    # The order page shows the number and until when it is held.
    shown = order_selectors.order_get(number=order.number).lines[0].sim
    assert (shown.display, shown.status, shown.held_until) == (
        "138 0013 8888",
        "held",
        number.held_until,
    )
    assert shown.owner_masked == f"张* {masked}"


def test_a_number_on_an_unpaid_order_cannot_go_into_the_cart_again(sim, buyer, owner):
    _add(buyer, sim)
    order = _checkout(buyer, owner)
    with pytest.raises(NumberOnYourOrder) as refused:
        _add(buyer, sim)
    assert refused.value.details == {"order": f"order:{order.number}"}
    assert not CartLine.objects.exists()


def test_payment_sells_the_number_to_its_owner(sim, buyer, owner):
    _add(buyer, sim)
    order = _checkout(buyer, owner, points=100_900)
    assert Order.objects.get(number=order.number).status == "paid"
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.hold_reference, number.held_until) == (
        "sold", buyer.pk, "", None,
    )  # fmt: skip
    assert number.sold_at is not None


def test_cancelling_the_order_gives_the_number_back(
    sim, buyer, owner, django_capture_on_commit_callbacks
):
    _add(buyer, sim)
    order = _checkout(buyer, owner)
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_cancel(number=order.number, user_id=buyer.pk)
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.order_line_id, number.owner_id_hash) == (
        "available", None, None, "",
    )  # fmt: skip


def test_an_expired_order_gives_the_number_back(sim, buyer, owner):
    _add(buyer, sim)
    order = _checkout(buyer, owner)
    assert orders.orders_expire(now=timezone.now() + timedelta(hours=1)) == 1
    assert Order.objects.get(number=order.number).status == "expired"
    assert SimNumber.objects.get(msisdn=PRETTY).status == "available"


def test_a_name_that_does_not_own_the_id_is_refused_and_nothing_is_written(
    sim, buyer, owner, carrier_sandbox
):
    carrier_sandbox.put_identity(owner.id_number, "李四")
    _add(buyer, sim)
    with pytest.raises(RealNameMismatch):
        _checkout(buyer, owner)
    assert not Order.objects.exists()
    assert CartLine.objects.count() == 1
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.hold_reference, number.owner_id_hash) == (
        "held", buyer.pk, "", "",
    )  # fmt: skip
    assert payments.points_balance(user_id=buyer.pk) == 1_000_000
    # The right name goes through on the next try.
    right = RealNameInput(name="李四", id_number=owner.id_number)
    assert _checkout(buyer, right, key="k2").lines[0].recipient == PRETTY


def test_an_id_holding_the_most_numbers_allowed_is_refused(sim, buyer, owner, carrier_sandbox):
    carrier_sandbox.put_identity(owner.id_number, "张三", other_numbers=5)
    _add(buyer, sim)
    with pytest.raises(IdNumberLimitReached) as refused:
        _checkout(buyer, owner)
    assert refused.value.details == {"limit": 5, "registered": 5}
    assert not Order.objects.exists()


def test_the_limit_counts_the_numbers_of_this_order_too(sim, buyer, owner, carrier_sandbox):
    carrier_sandbox.put_identity(owner.id_number, "张三", other_numbers=4)
    _add(buyer, sim)
    _add(buyer, sim, "+8613800135201")
    with pytest.raises(IdNumberLimitReached):
        _checkout(buyer, owner)
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert SimNumber.objects.filter(status="held", hold_reference="").count() == 2


def test_a_sim_card_needs_a_valid_real_name(sim, buyer, owner):
    _add(buyer, sim)
    with pytest.raises(RealNameRequired):
        _checkout(buyer, None)
    wrong_check = owner.id_number[:17] + ("1" if owner.id_number[-1] == "0" else "0")
    with pytest.raises(InvalidIdNumber):
        _checkout(buyer, RealNameInput(name="张三", id_number=wrong_check))
    assert not Order.objects.exists()


def test_an_id_on_the_block_list_cannot_buy_a_sim_card_and_nothing_is_written(sim, buyer, owner):
    """Risk control decides every SIM purchase (issue #13) on the owner's ID-number hash: a
    blocked ID is refused, no order is made, the number stays held in the cart."""
    from apps.core.crypto import keyed_hash
    from apps.risk.errors import RiskBlocked
    from apps.risk.services import list_entry_add

    list_entry_add(action="block", dimension="id_hash", reason="ID used by a SIM fraud ring",
                   value=keyed_hash(owner.id_number, purpose="id-number"), actor_id=None)  # fmt: skip
    _add(buyer, sim)
    with pytest.raises(RiskBlocked):
        _checkout(buyer, owner)
    assert not Order.objects.exists()
    assert CartLine.objects.count() == 1
    assert SimNumber.objects.get(msisdn=PRETTY).status == "held"
    assert payments.points_balance(user_id=buyer.pk) == 1_000_000
