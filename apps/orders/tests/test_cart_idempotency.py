"""Cart adds under an idempotency key: a repeat (the answer was lost, a 503 after the commit)
gets the first result and adds nothing; a different add under the same key is refused."""

import pytest
from django.contrib.messages import get_messages
from django.db import transaction

from apps.catalog.tests.factories import small_catalog
from apps.core.errors import IdempotencyConflict
from apps.orders import services
from apps.orders.models import CartLine
from apps.orders.services import CartOwner

pytestmark = pytest.mark.django_db
GUEST = CartOwner(session_key="guest-1")


@pytest.fixture
def vip():
    return small_catalog()["vip"].skus.get().pk


def test_a_repeated_add_under_its_key_adds_nothing(vip):
    first = services.cart_add(owner=GUEST, sku_id=vip, quantity=2, key="k1")
    again = services.cart_add(owner=GUEST, sku_id=vip, quantity=2, key="k1")
    assert again == first
    assert CartLine.objects.get().quantity == 2
    services.cart_add(owner=GUEST, sku_id=vip, quantity=1, key="k2")  # a new add adds
    assert CartLine.objects.get().quantity == 3


def test_an_add_without_a_key_still_adds_each_time(vip):
    services.cart_add(owner=GUEST, sku_id=vip)
    services.cart_add(owner=GUEST, sku_id=vip)
    assert CartLine.objects.get().quantity == 2


def test_another_add_under_the_same_key_is_refused(vip):
    services.cart_add(owner=GUEST, sku_id=vip, quantity=1, key="k1")
    with pytest.raises(IdempotencyConflict):
        services.cart_add(owner=GUEST, sku_id=vip, quantity=3, key="k1")
    assert CartLine.objects.get().quantity == 1


def test_keys_belong_to_their_cart(vip):
    services.cart_add(owner=GUEST, sku_id=vip, key="k1")
    services.cart_add(owner=CartOwner(session_key="guest-2"), sku_id=vip, key="k1")
    assert sorted(CartLine.objects.values_list("quantity", flat=True)) == [1, 1]


def test_an_add_rolled_back_leaves_its_key_free(vip):
    def add_then_die() -> None:
        with transaction.atomic():
            services.cart_add(owner=GUEST, sku_id=vip, key="k1")
            raise RuntimeError("the connection died before the commit")

    with pytest.raises(RuntimeError):
        add_then_die()
    services.cart_add(owner=GUEST, sku_id=vip, key="k1")
    assert CartLine.objects.get().quantity == 1


def test_the_api_takes_the_key_from_the_header_or_the_body(api_client, vip):
    def add(**kwargs):
        return api_client.post("/api/v1/cart/lines/", {"sku_id": vip, **kwargs.pop("body", {})},
                               format="json", **kwargs)  # fmt: skip

    assert add(HTTP_IDEMPOTENCY_KEY="h1").status_code == 201
    repeat = add(HTTP_IDEMPOTENCY_KEY="h1")
    assert repeat.status_code == 201
    assert repeat["Idempotent-Replayed"] == "true"
    assert repeat.json()["count"] == 1
    assert add(body={"idempotency_key": "b1"}).json()["count"] == 2
    assert add(body={"idempotency_key": "b1"}).json()["count"] == 2
    conflict = add(body={"idempotency_key": "b1", "quantity": 5})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    assert add(HTTP_IDEMPOTENCY_KEY="x" * 129).status_code == 400
    assert add().json()["count"] == 3  # no key: added as before


def test_the_product_page_form_carries_a_key_the_add_honours(client, vip):
    product = CartLine._meta.apps.get_model("catalog", "Sku").objects.get(pk=vip).product_id
    page = client.get(f"/p/{product}/").content.decode()
    assert 'name="idempotency_key"' in page and "data-fresh-key" in page
    said = []
    for _ in range(2):
        done = client.post("/cart/add/", {"sku": vip, "quantity": "1", "idempotency_key": "f1"})
        assert done.status_code == 302
        said.append([str(m) for m in get_messages(done.wsgi_request)][-1])
    assert CartLine.objects.get().quantity == 1
    assert said == ["已加入购物车。", "已在购物车中：此表单之前已提交。"]
    other = client.post("/cart/add/", {"sku": vip, "quantity": "2", "idempotency_key": "f1"},
                        HTTP_REFERER=f"http://testserver/p/{product}/")  # fmt: skip
    assert other["Location"] == f"http://testserver/p/{product}/"
    assert CartLine.objects.get().quantity == 1
