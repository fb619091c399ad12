"""Flash sales: the claim request only wins or loses units (real threads: no oversell, the
per-user limit held); a worker places the winner's order exactly once (the task run twice, or
twice at once, makes one order); an order that cannot be placed, is not placed in time, or
closes unpaid releases the units once; the waiting page and the API follow the claim to the
cashier. The worker's task is run explicitly by each test (no timers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.models import AuditEvent
from apps.core.redis import get_redis
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing import services as marketing
from apps.marketing.errors import FlashClaimGone, FlashLimit, FlashNotOpen, FlashSoldOut
from apps.marketing.models import FlashClaim, FlashSale, FlashUnit
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services.direct import DirectItem, order_buy_now
from apps.orders.tasks import flash_order_place_task
from apps.payments import services as payments
from tests.fixtures.concurrency import together


def _sale(sku_id, *, stock, limit=1, price=100, **extra):
    now = timezone.now()
    return FlashSale.objects.create(
        name="秒杀视频会员", sku_id=sku_id, price_fen=price, stock=stock, per_user_limit=limit,
        starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1), **extra,
    )  # fmt: skip


def _slots_left(sale):
    return get_redis().llen(f"{{flash:{sale.pk}}}:slots")


@pytest.mark.django_db(transaction=True)
def test_thirty_buyers_racing_for_five_units_win_five_claims_that_become_five_orders():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=5)
    buyers = [User.objects.create_user(f"138001390{n:02d}") for n in range(30)]
    # Committed at once (a transactional test): each winner's task runs eagerly after commit.
    results = together(*[
        (lambda u=u: services.flash_buy(user_id=u.pk, sale_id=sale.pk)) for u in buyers
    ])  # fmt: skip
    won = [r for r in results if isinstance(r, services.FlashPurchase)]
    assert len(won) == 5 and all(w.status == "reserved" for w in won)
    assert sum(isinstance(r, FlashSoldOut) for r in results) == 25
    assert sorted(FlashUnit.objects.values_list("slot", flat=True)) == [1, 2, 3, 4, 5]
    orders = Order.objects.all()
    assert orders.count() == 5 == FlashClaim.objects.filter(status="ordered").count()
    assert all((o.payable_fen, o.discount_fen) == (100, 1_400) for o in orders)


@pytest.mark.django_db(transaction=True)
def test_one_buyer_racing_with_himself_gets_no_more_than_the_limit():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=10, limit=2)
    buyer = User.objects.create_user("13800139100")
    results = together(*[
        (lambda: services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, quantity=2)) for _ in range(6)
    ])  # fmt: skip
    # The winner, and the repeats answered with the winner's claim (or refused while racing).
    claims = {r.claim_id for r in results if isinstance(r, services.FlashPurchase)}
    assert len(claims) == 1
    assert all(isinstance(r, services.FlashPurchase | FlashLimit) for r in results)
    assert FlashUnit.objects.count() == 2 and Order.objects.count() == 1
    with pytest.raises(FlashLimit):  # more than the limit in one go
        services.flash_buy(user_id=User.objects.create_user("13800139101").pk, sale_id=sale.pk,
                           quantity=3)  # fmt: skip


@pytest.mark.django_db
def test_the_claim_answers_at_once_and_the_worker_places_the_order(
    django_capture_on_commit_callbacks,
):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=2)
    buyer = User.objects.create_user("13800139150")

    with django_capture_on_commit_callbacks() as sent:  # the task is not run yet
        won = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk)

    assert (won.status, won.order_number) == ("reserved", "")
    assert not Order.objects.exists() and len(sent) == 1
    assert FlashClaim.objects.get().status == "reserved"
    # A repeat of the winning request is answered with the same claim, and queues nothing.
    with django_capture_on_commit_callbacks() as again:
        assert services.flash_buy(user_id=buyer.pk, sale_id=sale.pk).claim_id == won.claim_id
    assert again == []

    sent[0]()  # the worker runs

    placed = services.flash_purchase_of(sale_id=sale.pk, user_id=buyer.pk)
    order = Order.objects.get()
    assert (placed.status, placed.order_number) == ("ordered", order.number)
    assert (order.checkout_key, order.payable_fen, order.status) == (
        f"flash:{won.claim_id}",
        100,
        "pending_payment",
    )


@pytest.mark.django_db
def test_the_placement_task_run_twice_places_one_order(django_capture_on_commit_callbacks):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=2)
    buyer = User.objects.create_user("13800139160")
    with django_capture_on_commit_callbacks():
        won = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk)

    first = flash_order_place_task.apply(args=[won.claim_id]).get()
    second = flash_order_place_task.apply(args=[won.claim_id]).get()  # redelivered

    assert (first, second) == ("ordered", "ordered")
    assert Order.objects.count() == 1 and FlashUnit.objects.count() == 1
    moves = AuditEvent.objects.filter(object_type="flash_claim").values_list("action", flat=True)
    assert sorted(moves) == ["flash_claim.ordered", "flash_claim.reserved"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_placing_one_claim_at_once_make_one_order():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=2)
    buyer = User.objects.create_user("13800139170")
    claim_id = marketing.flash_take(sale_id=sale.pk, user_id=buyer.pk)  # won, task not sent

    results = together(*[lambda: services.flash_order_place(claim_id=claim_id) for _ in range(2)])

    assert results == ["ordered", "ordered"]  # the second finds the claim ordered already
    assert Order.objects.count() == 1
    assert FlashClaim.objects.get().order_number == Order.objects.get().number


@pytest.mark.django_db
def test_an_order_that_cannot_be_placed_releases_the_unit_exactly_once(
    django_capture_on_commit_callbacks,
):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    buyer, other = User.objects.create_user("13800139180"), User.objects.create_user("13800139181")
    with django_capture_on_commit_callbacks():  # 50 points asked, none held: the order fails
        won = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, points=50)
    assert _slots_left(sale) == 0

    with django_capture_on_commit_callbacks(execute=True):  # the slot goes back after commit
        assert services.flash_order_place(claim_id=won.claim_id, points=50) == "released"
    with django_capture_on_commit_callbacks(execute=True):  # again: nothing moves
        assert services.flash_order_place(claim_id=won.claim_id, points=50) == "released"
        assert marketing.flash_release(claim_id=won.claim_id, code="AGAIN") is False

    claim = FlashClaim.objects.get()
    assert (claim.status, claim.release_code) == ("released", "INSUFFICIENT_POINTS")
    assert not Order.objects.exists() and not FlashUnit.objects.exists()
    assert _slots_left(sale) == 1  # given back once
    released = AuditEvent.objects.filter(action="flash_claim.released")
    assert released.count() == 1
    # The unit is anyone's again, the first buyer's too.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.flash_buy(user_id=other.pk, sale_id=sale.pk).status == "reserved"
    assert Order.objects.get().user_id == other.pk
    with pytest.raises(FlashSoldOut):
        services.flash_buy(user_id=buyer.pk, sale_id=sale.pk)


@pytest.mark.django_db
def test_a_claim_not_placed_in_time_is_released_and_a_late_worker_places_nothing(
    django_capture_on_commit_callbacks, settings
):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    buyer = User.objects.create_user("13800139190")
    with django_capture_on_commit_callbacks() as sent:
        won = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk)
    assert marketing.flash_claims_expire() == 0  # within the deadline: held for the winner

    late = timezone.now() + timedelta(seconds=settings.FLASH_ORDER_DEADLINE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert marketing.flash_claims_expire(now=late) == 1
    assert marketing.flash_claims_expire(now=late) == 0

    sent[0]()  # the worker, late
    # And a checkout that passed the worker's check just before the release: refused.
    with pytest.raises(FlashClaimGone):
        order_buy_now(user_id=buyer.pk, checkout_key="late", flash_claim_id=won.claim_id,
                      item=DirectItem(sku_id=vip.pk))  # fmt: skip
    claim = FlashClaim.objects.get()
    assert (claim.status, claim.release_code) == ("released", "FLASH_ORDER_TIMEOUT")
    assert not Order.objects.exists() and _slots_left(sale) == 1


@pytest.mark.django_db
def test_a_closed_unpaid_order_gives_its_unit_to_the_next_buyer(django_capture_on_commit_callbacks):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    first, second = User.objects.create_user("13800139200"), User.objects.create_user("13800139201")
    with django_capture_on_commit_callbacks(execute=True):
        services.flash_buy(user_id=first.pk, sale_id=sale.pk)
    order = Order.objects.get()
    with pytest.raises(FlashSoldOut):
        services.flash_buy(user_id=second.pk, sale_id=sale.pk)
    with django_capture_on_commit_callbacks(execute=True):  # the slot goes back after commit
        services.order_cancel(number=order.number, user_id=first.pk)
    claim = FlashClaim.objects.get()
    assert (claim.status, claim.release_code) == ("released", "ORDER_CLOSED")
    with django_capture_on_commit_callbacks(execute=True):
        services.flash_buy(user_id=second.pk, sale_id=sale.pk)
    assert Order.objects.get(user_id=second.pk).payable_fen == 100


@pytest.mark.django_db
def test_the_flash_price_is_in_the_breakdown_and_booked_when_paid():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=3, price=99)
    buyer = User.objects.create_user("13800139300")
    payments.points_grant(user_id=buyer.pk, points=99, key="g", reason="test")
    with outbox_handled(tasks=True):
        services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, points=99)
    paid = Order.objects.get()
    assert (paid.goods_fen, paid.discount_fen, paid.points_fen, paid.status) == (
        1_500,
        1_401,
        99,
        "completed",
    )
    assert account_balance(code=f"marketing:flash:{sale.pk}") == 1_401
    assert FlashClaim.objects.get().status == "paid"
    assert AuditEvent.objects.filter(action="flash_claim.paid").count() == 1
    assert ledger_check() == []
    from apps.orders import selectors

    view = selectors.order_get(number=paid.number)
    assert [(d.rule, d.discount_fen) for d in view.discounts] == [("flash", 1_401)]


@pytest.mark.django_db
def test_a_sale_not_open_and_redis_losing_the_sale():
    vip = small_catalog()["vip"].skus.get()
    later = _sale(vip.pk, stock=2)
    later.starts_at = timezone.now() + timedelta(hours=1)
    later.ends_at = timezone.now() + timedelta(hours=2)
    later.save()
    from apps.marketing import flash

    flash._cache.clear()
    with pytest.raises(FlashNotOpen):
        services.flash_buy(user_id=User.objects.create_user("13800139400").pk, sale_id=later.pk)
    sale = _sale(vip.pk, stock=2)
    a, b, c = (User.objects.create_user(f"1380013950{n}") for n in range(3))
    services.flash_buy(user_id=a.pk, sale_id=sale.pk)
    get_redis().flushdb()  # Redis restarted empty: the database is the truth
    assert services.flash_buy(user_id=a.pk, sale_id=sale.pk).status == "reserved"  # his claim
    services.flash_buy(user_id=b.pk, sale_id=sale.pk)
    with pytest.raises(FlashSoldOut):
        services.flash_buy(user_id=c.pk, sale_id=sale.pk)
    assert sorted(FlashUnit.objects.values_list("slot", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_the_api_answers_the_claim_and_follows_it_to_the_order(
    api_client, django_capture_on_commit_callbacks
):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    api_client.force_authenticate(User.objects.create_user("13800139600"))
    with django_capture_on_commit_callbacks() as sent:
        won = api_client.post(f"/api/v1/flash-sales/{sale.pk}/buy/", {}, format="json")
    assert (won.status_code, won.json()["status"], won.json()["order_number"]) == (
        202,
        "reserved",
        "",
    )
    waiting = api_client.get(f"/api/v1/flash-sales/{sale.pk}/claim/").json()
    assert waiting["status"] == "reserved"
    sent[0]()
    placed = api_client.get(f"/api/v1/flash-sales/{sale.pk}/claim/").json()
    assert (placed["status"], placed["order_number"]) == ("ordered", Order.objects.get().number)

    api_client.force_authenticate(User.objects.create_user("13800139601"))
    lost = api_client.post(f"/api/v1/flash-sales/{sale.pk}/buy/", {}, format="json")
    assert (lost.status_code, lost.json()["code"]) == (409, "FLASH_SALE_SOLD_OUT")
    none = api_client.get(f"/api/v1/flash-sales/{sale.pk}/claim/")
    assert (none.status_code, none.json()["code"]) == (404, "FLASH_CLAIM_NOT_FOUND")
    missing = api_client.post("/api/v1/flash-sales/999999/buy/", {}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "FLASH_SALE_NOT_FOUND")


@pytest.mark.django_db
def test_the_waiting_page_moves_on_to_the_cashier_once_the_order_exists(
    client, django_capture_on_commit_callbacks
):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    buyer = User.objects.create_user("13800139700")
    client.force_login(buyer)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}

    assert client.get(f"/flash/{sale.pk}/", **en).status_code == 200
    with django_capture_on_commit_callbacks() as sent:
        posted = client.post(f"/flash/{sale.pk}/", **en)
    assert posted.status_code == 302 and posted["Location"] == f"/flash/{sale.pk}/claim/"

    # Before the worker: "got it, your order is being created", polling itself.
    page = client.get(f"/flash/{sale.pk}/claim/", **en)
    poll = client.get(f"/flash/{sale.pk}/claim/", HTTP_HX_REQUEST="true", **en)
    assert "Got it! Your order is being created." in page.content.decode()
    assert f'hx-get="/flash/{sale.pk}/claim/"' in poll.content.decode()
    assert "<html" not in poll.content.decode()

    sent[0]()  # the worker places the order

    number = Order.objects.get().number
    poll = client.get(f"/flash/{sale.pk}/claim/", HTTP_HX_REQUEST="true", **en)
    assert poll["HX-Redirect"] == f"/orders/{number}/pay/"
    visit = client.get(f"/flash/{sale.pk}/claim/", **en)
    assert visit.status_code == 302 and visit["Location"] == f"/orders/{number}/pay/"
    # A buyer who lost is told so on the sale's page.
    client.force_login(User.objects.create_user("13800139701"))
    lost = client.post(f"/flash/{sale.pk}/", **en)
    assert lost.status_code == 409 and "Sold out" in lost.content.decode()


@pytest.mark.django_db
def test_a_sale_whose_product_left_the_shelf_is_gone_but_its_claims_still_answer(client):
    vip = small_catalog()["vip"]
    sale = _sale(vip.skus.get().pk, stock=2)
    buyer = User.objects.create_user("13800139600")
    services.flash_buy(user_id=buyer.pk, sale_id=sale.pk)
    type(vip).objects.filter(pk=vip.pk).update(status="archived")
    assert client.get(f"/flash/{sale.pk}/").status_code == 404
    client.force_login(buyer)
    assert client.get(f"/flash/{sale.pk}/claim/").status_code == 200
