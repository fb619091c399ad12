"""Pages: choosing a number on the SIM card's product page, checking out with a real name,
seeing the number on the order; the workbench's CSV import."""

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.orders.models import Order
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product, unique_id_number

pytestmark = pytest.mark.django_db
CHECKOUT = {
    "name": "张三", "phone": "13800138000", "province": "广东", "city": "广州", "address": "天河路1号",
    "points": "0",
}  # fmt: skip


@pytest.fixture
def sim():
    numbers("13800138888", "13800135201", "13952012345")
    return sim_product(price=1000)


def test_the_product_page_offers_the_number_search_and_the_fragment_lists_numbers(client, sim):
    page = client.get(f"/p/{sim.pk}/").content.decode()
    assert 'id="sim-choose"' in page and 'hx-get="/sim/numbers/"' in page
    fragment = client.get("/sim/numbers/", {"suffix": "888"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert re.findall(r'name="sim_number" value="([^"]+)"', html) == ["+8613800138888"]
    assert "138 0013 8888" in html and "¥999.00" in html
    assert "归属地" in html and 'class="sim-numbers sim-grid"' in html  # a grid with the region
    assert 'hx-indicator="#sim-loading"' in page and "正在查找号码" in page
    assert "<html" not in html
    refused = client.get("/sim/numbers/", {"prefix": "abc"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert 'name="sim_number"' not in refused.content.decode()


def test_choose_a_number_check_out_with_a_real_name_and_see_it_on_the_order(
    client, sim, carrier_sandbox
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the assertions read the English UI
    id_number = unique_id_number()
    carrier_sandbox.put_identity(id_number, "张三")
    # A guest is asked to sign in first and nothing is held.
    client.post("/cart/add/", {"sku": sim.skus.get().pk, "sim_number": "+8613800138888"})
    assert SimNumber.objects.get(msisdn="+8613800138888").status == "available"
    client.force_login(User.objects.create_user("13800138000"))
    done = client.post("/cart/add/", {"sku": sim.skus.get().pk, "sim_number": "+8613800138888"})
    assert done.status_code == 302
    cart = client.get("/cart/").content.decode()
    assert "+8613800138888" in cart and "¥1,009.00" in cart
    form = client.get("/checkout/").content.decode()
    assert 'name="id_number"' in form and "held for you until" in form
    key = re.search(r'name="checkout_key" value="([^"]+)"', form).group(1)
    wrong = client.post(
        "/checkout/", {**CHECKOUT, "checkout_key": key, "id_name": "李四", "id_number": id_number}
    )
    assert wrong.status_code == 422
    assert "do not match the national identity register" in wrong.content.decode()
    assert not Order.objects.exists()
    placed = client.post(
        "/checkout/", {**CHECKOUT, "checkout_key": key, "id_name": "张三", "id_number": id_number}
    )
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/orders/{order.number}/pay/"
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "138 0013 8888" in detail and "held for you until" in detail
    assert "张* " + id_number[:4] in detail


def test_operators_import_numbers_from_a_csv_in_the_workbench(client):
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    page = client.get("/admin/simcards/simnumber/import/")
    assert page.status_code == 200
    bad = SimpleUploadedFile("pool.csv", b"msisdn\n13000000000\n", content_type="text/csv")
    refused = client.post("/admin/simcards/simnumber/import/", {"file": bad})
    assert "not one of our number segments" in refused.content.decode()
    assert not SimNumber.objects.exists()
    good = SimpleUploadedFile(
        "pool.csv",
        b"msisdn,premium_fen\n13800138888,\n13800135201,100\n",
        content_type="text/csv",
    )
    done = client.post("/admin/simcards/simnumber/import/", {"file": good})
    assert done.status_code == 302
    assert dict(SimNumber.objects.values_list("msisdn", "premium_fen")) == {
        "+8613800138888": 99_900, "+8613800135201": 100,
    }  # fmt: skip
    assert client.get("/admin/simcards/simnumber/").status_code == 200


def test_choose_and_check_out_through_the_api(api_client, sim, carrier_sandbox):
    id_number = unique_id_number()
    user = User.objects.create_user("13800138000")
    api_client.force_authenticate(user)
    added = api_client.post(
        "/api/v1/cart/lines/",
        {"sku_id": sim.skus.get().pk, "sim_number": "+8613800138888"},
        format="json",
    )
    assert added.status_code == 201
    (line,) = added.json()["lines"]
    assert (line["recipient"], line["is_sim"], line["price_fen"]) == (
        "+8613800138888",
        True,
        100_900,
    )
    assert line["held_until"] is not None
    body = {
        "checkout_key": "api-1",
        "shipping": {"name": "张三", "phone": "13800138000", "province": "广东", "city": "广州", "address": "天河路1号"},
        "real_name": {"name": "张三", "id_number": id_number},
    }  # fmt: skip
    carrier_sandbox.put_identity(id_number, "王五")
    refused = api_client.post("/api/v1/checkout/", body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (422, "REAL_NAME_MISMATCH")
    carrier_sandbox.put_identity(id_number, "张三")
    placed = api_client.post("/api/v1/checkout/", body, format="json")
    assert placed.status_code == 201
    number = placed.json()["number"]
    detail = api_client.get(f"/api/v1/orders/{number}/").json()
    assert (detail["lines"][0]["sim"]["msisdn"], detail["lines"][0]["sim"]["status"]) == (
        "+8613800138888",
        "held",
    )
