"""Digital goods bought in the mall are delivered by content; what a subscriber owns, the reader,
signed media links; the CP console."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.db import transaction

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.content import selectors, services, views
from apps.content.handlers import entitlement_requested
from apps.content.models import ContentProduct, ContentProvider, Entitlement, Subscription
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.selectors import account_balance
from apps.orders.models import Order
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return User.objects.create_user("+8613800138000")


def test_a_paid_mall_line_is_delivered_by_an_entitlement_and_the_cp_share_is_booked(buyer):
    cp = approved_cp(share_bp=6000)
    product = product_on_sale(cp, price_fen=1500, kind="video", mode="one_off")
    order = paid_order(buyer, [Product.objects.get(pk=product.catalog_product_id)])
    assert order.lines.get().fulfilment == "delivered"  # fulfilment's summary of the line
    assert Order.objects.get(pk=order.pk).status == "completed"
    [owned] = selectors.owned_content(user_id=buyer.pk)
    assert (owned.product_id, owned.whole) == (product.pk, True)
    assert account_balance(code=f"cp:{cp.pk}:payable") == -900
    # Redelivered hand-off: granted once, booked once.
    event = OutboxEvent.objects.get(topic="fulfilment.entitlement_requested")
    with outbox_handled():
        entitlement_requested(outbox.Event(event.pk, event.topic, event.payload, event.key))
    assert Entitlement.objects.count() == 1
    assert account_balance(code=f"cp:{cp.pk}:payable") == -900


def test_a_refunded_mall_line_loses_its_entitlement_and_the_share_goes_back(buyer):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    order = paid_order(buyer, [Product.objects.get(pk=product.catalog_product_id)])
    line = order.lines.get()
    with outbox_handled(), transaction.atomic():
        outbox.publish(
            "orders.lines_refunded",
            {"number": order.number, "line_ids": [line.pk], "reason": "退款"},
        )
    assert not selectors.entitled(user_id=buyer.pk, product_id=product.pk)
    assert account_balance(code=f"cp:{cp.pk}:payable") == 0


def test_the_reader_serves_chapters_only_to_the_entitled(client, buyer):
    cp = approved_cp()
    book = product_on_sale(cp, price_fen=200, mode="per_chapter", chapters=3)
    client.force_login(buyer)
    assert client.get(f"/my/content/{book.pk}/chapters/1/").status_code == 200  # the free preview
    assert client.get(f"/my/content/{book.pk}/chapters/2/").status_code == 403
    services.entitlement_grant(
        user_id=buyer.pk, product=book, source="charge", reference="CC1", chapter=2
    )
    page = client.get(f"/my/content/{book.pk}/chapters/2/")
    assert page.status_code == 200 and "正文2" in page.content.decode()
    assert client.get(f"/my/content/{book.pk}/chapters/3/").status_code == 403
    mine = client.get("/my/content/")
    assert book.title in mine.content.decode()


def test_a_media_link_is_signed_expires_and_stops_after_a_refund(client, buyer, monkeypatch):
    cp = approved_cp()
    film = product_on_sale(cp, kind="video")
    services.entitlement_grant(user_id=buyer.pk, product=film, source="charge", reference="CC2")
    link = views.media_link(product_id=film.pk, user_id=buyer.pk)
    assert client.get(link).status_code == 200
    assert client.get(link[:-3] + "xx/").status_code == 403  # tampered
    later = time.time() + views.MEDIA_LINK_SECONDS + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(link).status_code == 403  # expired
    monkeypatch.undo()
    services.entitlements_revoke(source="charge", references=["CC2"], reason="refunded")
    assert client.get(link).status_code == 403


def test_the_cp_console_applies_proposes_a_product_and_shows_a_key_once(client):
    user = User.objects.create_user("+8613755556666")
    client.force_login(user)
    client.post("/cp/", {"name": "漫游动漫", "licence_number": "L-9", "bank_account": "6222",
                         "contact_name": "赵六", "contact_phone": "13755556666"})  # fmt: skip
    cp = ContentProvider.objects.get(licence_number="L-9")
    assert "content_provider" in set(user.groups.values_list("name", flat=True))
    services.cp_review(cp_id=cp.pk, decision="approve", actor_id=operator().pk)
    form = {"kind": "animation", "title": "漫画周刊", "description": "", "billing_mode": "one_off",
            "trial_days": 0, "billing_code": "A1", "notify_url": ""}  # fmt: skip
    refused = client.post("/cp/products/new/", {**form, "price_fen": 0})
    assert refused.status_code == 200 and ContentProduct.objects.count() == 0
    client.post("/cp/products/new/", {**form, "price_fen": 300})
    assert ContentProduct.objects.get().status == "pending"
    page = client.post("/cp/keys/new/")
    secret = page.context["issued"].secret
    assert secret in page.content.decode()
    assert secret not in client.get("/cp/").content.decode()


def test_a_subscriber_starts_a_free_trial_and_cancels_it_from_the_content_page(client, buyer):
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="video", title="影视包月", description="",
                                      price_fen=1500, billing_mode="monthly", billing_code="V7", trial_days=7)  # fmt: skip
    services.product_review(product_id=product.pk, decision="approve", actor_id=operator().pk)
    client.force_login(buyer)
    assert "7" in client.get(f"/my/content/{product.pk}/").content.decode()
    client.post(f"/my/content/{product.pk}/trial/")
    assert selectors.entitled(user_id=buyer.pk, product_id=product.pk)
    client.post(f"/my/content/{product.pk}/trial/")  # once per product
    assert Subscription.objects.filter(user_id=buyer.pk).count() == 1
    client.post(f"/my/content/{product.pk}/cancel/")
    sub = Subscription.objects.get(user_id=buyer.pk)
    assert (sub.status, sub.next_try_at) == ("cancelled", None)
    assert selectors.entitled(user_id=buyer.pk, product_id=product.pk)  # to the trial's end


def test_the_order_page_and_the_account_page_lead_to_what_the_buyer_can_now_use(buyer, client):
    cp = approved_cp()
    book = product_on_sale(cp, price_fen=800, kind="reading", chapters=2)
    order = paid_order(buyer, [Product.objects.get(pk=book.catalog_product_id)])
    client.force_login(buyer)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert 'data-testid="order-content"' in page
    assert f'href="/my/content/{book.pk}/"' in page and book.title in page
    assert 'href="/my/content/"' in client.get("/accounts/profile/").content.decode()
    other = User.objects.create_user("+8613800138009")
    client.force_login(other)
    assert client.get(f"/orders/{order.number}/").status_code == 404
