"""Cards sold in the mall: taken from the SKU's online batches once, shown only to their buyer."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.models import SmsMessage
from apps.catalog.models import Sku
from apps.catalog.tests.factories import category, product, product_type
from apps.core.crypto import decrypt_text, keyed_hash
from apps.core.models import AuditEvent
from apps.fulfilment import cards
from apps.fulfilment.models import Card, Delivery
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund

E_CARD_SCHEMA = [
    {"key": "card_kind", "label": "卡类型", "type": "choice", "choices": ["recharge", "data", "points"], "required": True},
    {"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": False},
]  # fmt: skip


@pytest.fixture
def card_sku() -> Sku:
    ptype = product_type("e_card", schema=E_CARD_SCHEMA)
    item = product(category("ecards"), ptype, "充值卡密 30元", price=2950, stock=0,
                   attributes={"card_kind": "recharge", "face_value": 30})  # fmt: skip
    return item.skus.get()


def _online_batch(sku: Sku, quantity: int):
    return cards.card_batch_create(value=cards.CardValue(kind="recharge", face_value_fen=3000), quantity=quantity,
                                   sku_id=sku.pk, expires_at=timezone.now() + timedelta(days=90), actor_id=7)  # fmt: skip


def _buyer(phone: str) -> User:
    user = User.objects.create_user(phone)
    payments.points_grant(user_id=user.pk, points=50_000, key=f"b{user.pk}", reason="t")
    return user


def _buy(user: User, sku: Sku, quantity: int, key: str = "k1") -> Order:
    """Checkout paid in points: the paying transaction commits the stock and takes the cards."""
    orders.cart_add(owner=CartOwner(user_id=user.pk), sku_id=sku.pk, quantity=quantity)
    view = orders.checkout_submit(user_id=user.pk, checkout_key=key, points=2950 * quantity)
    return Order.objects.get(number=view.number)


@pytest.mark.django_db
def test_an_online_batch_is_the_skus_stock_and_has_no_print_file(card_sku):
    batch = _online_batch(card_sku, 3)
    card_sku.refresh_from_db()
    assert (card_sku.tracks_stock, card_sku.stock_on_hand, card_sku.stock_reserved) == (True, 3, 0)
    assert (batch.channel, batch.print_file) == ("online", "")
    with pytest.raises(cards.PrintFileGone):
        cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=7)
    assert all(c.pin_encrypted for c in Card.objects.filter(batch=batch))
    with pytest.raises(cards.CardStateConflict):
        cards.card_batch_set_status(batch_id=batch.pk, status="bogus", actor_id=7)
    cards.card_batch_set_status(batch_id=batch.pk, status="frozen", actor_id=7)
    card_sku.refresh_from_db()
    assert card_sku.stock_on_hand == 0
    cards.card_batch_set_status(batch_id=batch.pk, status="active", actor_id=7)
    card_sku.refresh_from_db()
    assert card_sku.stock_on_hand == 3


@pytest.mark.django_db
def test_an_online_batch_must_match_its_skus_card(card_sku):
    with pytest.raises(cards.CardBatchInvalid):
        cards.card_batch_create(value=cards.CardValue(kind="recharge", face_value_fen=5000), quantity=1,
                                sku_id=card_sku.pk, expires_at=timezone.now() + timedelta(days=9), actor_id=7)  # fmt: skip
    assert not Card.objects.exists()


@pytest.mark.django_db
def test_a_paid_line_gets_its_cards_and_only_the_buyer_reads_the_pins(
    card_sku, client, django_capture_on_commit_callbacks
):
    _online_batch(card_sku, 3)
    buyer = _buyer("13800138010")
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(buyer, card_sku, 2)
    job = Delivery.objects.get(order_number=order.number)
    assert (job.kind, job.status, job.units, job.delivered_units) == ("card", "delivered", 2, 2)
    assert OrderLine.objects.get(order=order).fulfilment == "delivered"
    sold = list(Card.objects.filter(sold_order_number=order.number))
    assert len(sold) == 2
    assert {c.sold_user_id for c in sold} == {buyer.pk}
    card_sku.refresh_from_db()
    assert (card_sku.stock_on_hand, card_sku.stock_reserved) == (1, 0)
    assert Card.objects.filter(sold_line_id__isnull=True).count() == 1
    (sms,) = SmsMessage.objects.filter(msisdn=buyer.phone)
    assert order.number in sms.preview
    assert not any(decrypt_text(c.pin_encrypted) in sms.preview for c in sold)

    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/").content.decode()
    for card in sold:
        assert card.number in page
    pin = cards.card_pin_reveal(number=sold[0].number, user_id=buyer.pk)
    assert re.fullmatch(r"\d{18}", pin)
    assert keyed_hash(f"{sold[0].number}:{pin}", purpose="card-pin") == sold[0].pin_hash
    assert pin not in page  # masked until asked for
    shown = client.post(f"/cards/pin/{sold[0].number}/", HTTP_HX_REQUEST="true")
    assert shown.status_code == 200
    assert pin in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="card.pin_revealed", object_id=sold[0].number,
                                     actor_id=buyer.pk).count() == 2  # fmt: skip


@pytest.mark.django_db
def test_nobody_else_reads_a_sold_pin(
    card_sku, client, api_client, django_capture_on_commit_callbacks
):
    _online_batch(card_sku, 1)
    buyer, stranger = _buyer("13800138011"), User.objects.create_user("13800138012")
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(buyer, card_sku, 1)
    number = Card.objects.get(sold_order_number=order.number).number
    client.force_login(stranger)
    assert client.post(f"/cards/pin/{number}/").status_code == 404
    assert client.get(f"/orders/{order.number}/").status_code == 404
    api_client.force_authenticate(stranger)
    refused = api_client.post(f"/api/v1/cards/{number}/pin/")
    assert (refused.status_code, refused.json()["code"]) == (404, "CARD_NOT_FOUND")
    assert api_client.get("/api/v1/cards/purchased/", {"order": order.number}).json() == []
    assert not AuditEvent.objects.filter(action="card.pin_revealed").exists()
    api_client.force_authenticate(buyer)
    mine = api_client.get("/api/v1/cards/purchased/", {"order": order.number}).json()
    assert [(c["number"], c["masked_pin"], c["status"]) for c in mine] == [
        (number, "•" * 18, "active")
    ]
    shown = api_client.post(f"/api/v1/cards/{number}/pin/")
    assert shown.status_code == 200
    assert re.fullmatch(r"\d{18}", shown.json()["pin"])


@pytest.mark.django_db
def test_a_bought_card_is_redeemed_with_its_revealed_pin(
    card_sku, carrier_sandbox, django_capture_on_commit_callbacks
):
    carrier_sandbox.put_subscriber("+8613800138013", status="active", balance_fen=0)
    _online_batch(card_sku, 1)
    buyer = _buyer("13800138013")
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(buyer, card_sku, 1)
    number = Card.objects.get(sold_order_number=order.number).number
    pin = cards.card_pin_reveal(number=number, user_id=buyer.pk)
    done = cards.card_redeem(
        number=number, pin=pin, msisdn="13800138013", user_id=buyer.pk, client_ip="10.1.2.3"
    )
    assert (done.amount_fen, Card.objects.get(number=number).status) == (3000, "redeemed")


@pytest.mark.django_db(transaction=True)
def test_two_buyers_one_card_left_one_gets_it_the_other_is_refunded(card_sku):
    _online_batch(card_sku, 1)
    # The stock says two (an operator's hand edit, or a batch frozen after checkout): only the
    # cards decide.
    Sku.objects.filter(pk=card_sku.pk).update(stock_on_hand=2)
    buyers = [_buyer("13800138020"), _buyer("13800138021")]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def buy(user: User) -> None:
        try:
            barrier.wait()
            _buy(user, card_sku, 1, key=f"race{user.pk}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(u,)) for u in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Eager Celery ran each job after its checkout committed.
    jobs = {j.status: j for j in Delivery.objects.all()}
    assert set(jobs) == {"delivered", "refunded"}
    winner = Order.objects.get(number=jobs["delivered"].order_number)
    loser = Order.objects.get(number=jobs["refunded"].order_number)
    assert Card.objects.get().sold_user_id == winner.user_id
    assert (jobs["refunded"].delivered_units, jobs["refunded"].last_error) == (0, "CARDS_SOLD_OUT")
    assert OrderLine.objects.get(order=loser).fulfilment == "refunded"
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen, refund.status) == (True, 2950, "succeeded")
    assert payments.points_balance(user_id=loser.user_id) == 50_000
    assert payments.points_balance(user_id=winner.user_id) == 50_000 - 2950
    assert Order.objects.get(pk=loser.pk).status == "refunded"


@pytest.mark.django_db(transaction=True)
def test_racing_allocations_never_share_a_card(card_sku):
    _online_batch(card_sku, 3)
    results: dict[int, int] = {}
    barrier = threading.Barrier(4)

    def take(line_id: int) -> None:
        barrier.wait()
        try:
            results[line_id] = cards.cards_allocate(line_id=line_id, sku_id=card_sku.pk, units=1, user_id=line_id,
                                                    order_number=f"O{line_id}")  # fmt: skip
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [0, 1, 1, 1]
    taken = list(Card.objects.exclude(sold_line_id=None).values_list("sold_line_id", flat=True))
    assert len(taken) == len(set(taken)) == 3


@pytest.mark.django_db
def test_delivered_cards_are_refunded_only_on_an_operators_override_which_voids_the_unredeemed(
    card_sku, django_capture_on_commit_callbacks
):
    _online_batch(card_sku, 2)
    buyer = _buyer("13800138030")
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(buyer, card_sku, 2)
    sold = list(Card.objects.filter(sold_order_number=order.number).order_by("id"))
    Card.objects.filter(pk=sold[0].pk).update(status="redeemed")  # one already used
    with pytest.raises(orders.NothingRefundable):  # the buyer alone: delivered stays delivered
        orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="changed my mind")
    assert not Refund.objects.exists()
    operator = _buyer("13800000031")
    with django_capture_on_commit_callbacks(execute=True):
        (refund_id,) = orders.order_refund_request(
            number=order.number, user_id=buyer.pk, reason="changed my mind",
            requested_by=operator.pk, override_reason="客服工单 #42：误购",
        )  # fmt: skip
        finance = _buyer("13800000032")  # maker-checker: another user approves
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=finance.pk)
    override = AuditEvent.objects.get(action="order.refund_override")
    assert (override.actor_id, override.after["reason"]) == (operator.pk, "客服工单 #42：误购")
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert [c.status for c in Card.objects.filter(sold_order_number=order.number).order_by("id")] == [
        "redeemed", "voided"
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="card.voided", object_id=sold[1].number).count() == 1
    pin = cards.card_pin_reveal(number=sold[1].number, user_id=buyer.pk)
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem(
            number=sold[1].number,
            pin=pin,
            msisdn="13800138030",
            user_id=buyer.pk,
            client_ip="10.3.3.3",
        )


@pytest.mark.django_db
def test_an_expired_batch_leaves_the_stock_at_the_next_recount(card_sku):
    from apps.fulfilment.cards.batches import cards_stock_sync_all
    from apps.fulfilment.models import CardBatch

    batch = _online_batch(card_sku, 2)
    CardBatch.objects.filter(pk=batch.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert cards_stock_sync_all() == 1
    card_sku.refresh_from_db()
    assert card_sku.stock_on_hand == 0
