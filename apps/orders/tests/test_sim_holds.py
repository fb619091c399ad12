"""Choosing a number holds it for one buyer in their cart; removing it or letting it lapse gives it back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.orders import selectors as order_selectors
from apps.orders import services as orders
from apps.orders.errors import InvalidQuantity
from apps.orders.models import CartLine
from apps.orders.services import CartOwner
from apps.simcards import services
from apps.simcards.errors import NumberRequired, NumberTaken, SignInToChoose, TooManyHolds
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product

pytestmark = pytest.mark.django_db
PRETTY = "+8613800138888"


@pytest.fixture
def sim():
    numbers("13800138888", "13800135201", "13800135202", "13800135203")
    return sim_product(price=1000)


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def _add(user, sim, number=PRETTY):
    return orders.cart_add(
        owner=CartOwner(user_id=user.pk), sku_id=sim.skus.get().pk, sim_number=number
    )


def test_choosing_a_number_holds_it_and_the_cart_prices_its_premium(sim, buyer):
    before = timezone.now()
    _add(buyer, sim)
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.hold_reference) == ("held", buyer.pk, "")
    assert (
        before + timedelta(seconds=services.CART_HOLD_SECONDS)
        <= number.held_until
        <= timezone.now() + timedelta(seconds=services.CART_HOLD_SECONDS)
    )
    cart = order_selectors.cart_view(owner=CartOwner(user_id=buyer.pk))
    (line,) = cart.lines
    assert (line.recipient, line.is_sim, line.held_until) == (PRETTY, True, number.held_until)
    assert (line.price_fen, cart.total_fen) == (1000 + 99_900, 100_900)


def test_removing_the_line_gives_the_number_back(sim, buyer):
    line_id = _add(buyer, sim)
    orders.cart_line_remove(owner=CartOwner(user_id=buyer.pk), line_id=line_id)
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.held_until) == ("available", None, None)


def test_choosing_the_same_number_again_extends_the_hold_on_one_line(sim, buyer):
    first = _add(buyer, sim)
    assert _add(buyer, sim) == first
    assert CartLine.objects.get().quantity == 1


def test_a_number_someone_holds_cannot_be_chosen(sim, buyer):
    _add(buyer, sim)
    other = User.objects.create_user("13900139000")
    with pytest.raises(NumberTaken):
        _add(other, sim)
    assert not CartLine.objects.filter(cart__user_id=other.pk).exists()
    assert SimNumber.objects.get(msisdn=PRETTY).holder_user_id == buyer.pk


def test_a_lapsed_cart_hold_can_be_taken_and_is_swept_back(sim, buyer):
    _add(buyer, sim)
    SimNumber.objects.filter(msisdn=PRETTY).update(held_until=timezone.now() - timedelta(seconds=1))
    other = User.objects.create_user("13900139000")
    _add(other, sim)
    assert SimNumber.objects.get(msisdn=PRETTY).holder_user_id == other.pk
    # The first buyer's cart now shows the number as no longer held.
    (line,) = order_selectors.cart_view(owner=CartOwner(user_id=buyer.pk)).lines
    assert line.held_until is None
    SimNumber.objects.filter(msisdn=PRETTY).update(held_until=timezone.now() - timedelta(seconds=1))
    assert services.holds_release_lapsed() == 1
    assert SimNumber.objects.get(msisdn=PRETTY).status == "available"
    assert services.holds_release_lapsed() == 0


def test_a_guest_must_sign_in_and_a_number_must_be_chosen(sim, buyer):
    with pytest.raises(SignInToChoose):
        orders.cart_add(
            owner=CartOwner(session_key="guest"), sku_id=sim.skus.get().pk, sim_number=PRETTY
        )
    with pytest.raises(NumberRequired):
        _add(buyer, sim, number="")
    assert not CartLine.objects.exists()
    assert SimNumber.objects.get(msisdn=PRETTY).status == "available"


def test_one_card_per_number_and_a_few_numbers_per_buyer(sim, buyer):
    with pytest.raises(InvalidQuantity):
        orders.cart_add(
            owner=CartOwner(user_id=buyer.pk), sku_id=sim.skus.get().pk, quantity=2,
            sim_number=PRETTY,
        )  # fmt: skip
    assert SimNumber.objects.get(msisdn=PRETTY).status == "available"
    for n in ("+8613800135201", "+8613800135202", "+8613800138888"):
        _add(buyer, sim, n)
    with pytest.raises(TooManyHolds):
        _add(buyer, sim, "+8613800135203")
    assert SimNumber.objects.get(msisdn="+8613800135203").status == "available"
    assert CartLine.objects.count() == 3
