"""Who a campaign is for: each target kind, and first-order offers on top of any target."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.marketing.models import BuyerFacts
from apps.marketing.selectors import automatic_campaigns, targets
from apps.marketing.tests.support import campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer() -> User:
    return User.objects.create_user("13800138000")  # home province 内蒙古


@pytest.fixture
def other() -> User:
    return User.objects.create_user("13900139000")  # home province 辽宁


def test_all_is_everyone_and_a_guest(buyer: User) -> None:
    offer = campaign(target="all")
    now = timezone.now()
    assert targets(offer, user_id=buyer.pk, now=now)
    assert targets(offer, user_id=None, now=now)


def test_a_guest_gets_only_all_and_never_a_first_order_offer() -> None:
    now = timezone.now()
    assert not targets(campaign(target="all", first_order_only=True), user_id=None, now=now)
    assert not targets(campaign(target="new"), user_id=None, now=now)


def test_new_subscribers_joined_within_the_days(buyer: User, other: User) -> None:
    offer = campaign(target="new", new_within_days=30)
    now = timezone.now()
    User.objects.filter(pk=other.pk).update(date_joined=now - timedelta(days=31))
    User.objects.filter(pk=buyer.pk).update(date_joined=now - timedelta(days=29))
    assert targets(offer, user_id=buyer.pk, now=now)
    assert not targets(offer, user_id=other.pk, now=now)


def test_a_list_of_numbers_in_either_spelling(buyer: User, other: User) -> None:
    offer = campaign(target="numbers", target_numbers=["+8613800138000", "13800138000"])
    now = timezone.now()
    assert targets(offer, user_id=buyer.pk, now=now)
    assert not targets(offer, user_id=other.pk, now=now)


def test_a_province_by_the_numbers_home_province(buyer: User, other: User) -> None:
    offer = campaign(target="province", target_province="辽宁")
    now = timezone.now()
    assert targets(offer, user_id=other.pk, now=now)
    assert not targets(offer, user_id=buyer.pk, now=now)


def test_a_segment_by_spend_and_products_bought(buyer: User, other: User) -> None:
    BuyerFacts.objects.create(user_id=buyer.pk, paid_orders=2, spent_fen=50_000, product_ids=[7])
    BuyerFacts.objects.create(user_id=other.pk, paid_orders=1, spent_fen=9_999, product_ids=[7, 8])
    now = timezone.now()
    big_spenders = campaign(target="segment", segment_min_spend_fen=10_000)
    bought_eight = campaign(target="segment", segment_product_ids=[8])
    both = campaign(target="segment", segment_min_spend_fen=10_000, segment_product_ids=[8])
    assert [targets(c, user_id=buyer.pk, now=now) for c in (big_spenders, bought_eight, both)] == [
        True,
        False,
        False,
    ]
    assert [targets(c, user_id=other.pk, now=now) for c in (big_spenders, bought_eight, both)] == [
        False,
        True,
        False,
    ]
    stranger = User.objects.create_user("13700137000")  # no purchases at all
    assert not targets(bought_eight, user_id=stranger.pk, now=now)


def test_first_order_only_ends_with_a_paid_order_whatever_the_target(buyer: User) -> None:
    offer = campaign(target="province", target_province="内蒙古", first_order_only=True)
    now = timezone.now()
    assert targets(offer, user_id=buyer.pk, now=now)
    BuyerFacts.objects.create(user_id=buyer.pk, paid_orders=1, spent_fen=100)
    assert not targets(offer, user_id=buyer.pk, now=now)


def test_automatic_campaigns_leave_out_coupon_only_closed_and_spent_ones(buyer: User) -> None:
    now = timezone.now()
    running = campaign(name="running")
    campaign(name="coupon", coupon_only=True)
    campaign(name="ended", ends_at=now - timedelta(minutes=1))
    campaign(name="spent", budget_fen=100, spent_fen=100)
    campaign(name="paused", status="paused")
    assert [c.pk for c in automatic_campaigns(user_id=buyer.pk, now=now)] == [running.pk]
