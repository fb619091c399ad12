"""Template messages reach the sandbox's WeChat server: order paid, then recharge done (or
delivered, for a line that is not airtime), for a bound buyer only; the custom menu is
published from the workbench."""

from __future__ import annotations

import httpx
import pytest

from apps.accounts.models import User, WechatBinding
from apps.catalog.tests.factories import category, product, product_type, small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.wechat import services
from apps.wechat.models import MenuButton
from apps.wechat.tests.support import mp_sandbox  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
NUMBER = "+8613800138777"


@pytest.fixture
def airtime(mp_sandbox):  # noqa: F811
    mp_sandbox.put_subscriber(NUMBER, status="active", balance_fen=1000)
    ptype = product_type(
        "airtime", needs_number=True,
        schema=[{"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": True}],
    )  # fmt: skip
    return product(
        category("airtime"), ptype, "话费充值 50元", price=4980, attributes={"face_value": 50}
    )


def _received(sandbox, openid: str) -> list[dict]:
    url = f"{sandbox.url}/mp/sandbox/received"
    return httpx.get(url, params={"openid": openid, "kind": "template"}).json()["items"]


def _buy(airtime, phone: str) -> str:
    buyer = User.objects.get(phone=f"+86{phone}")
    payments.points_grant(user_id=buyer.pk, points=4980, key=f"g{phone}", reason="t")
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=airtime.skus.get().pk,
                    quantity=1, recipient=NUMBER)  # fmt: skip
    with outbox_handled(tasks=True):  # order_paid, the delivery, delivery_ended, and the sends
        view = orders.checkout_submit(user_id=buyer.pk, checkout_key=f"k{phone}", points=4980)
    return view.number


def test_a_bound_buyer_gets_order_paid_and_recharge_done(airtime, mp_sandbox, settings):  # noqa: F811
    WechatBinding.objects.create(user=User.objects.create_user("13800138000"), openid="o-buyer")

    number = _buy(airtime, "13800138000")

    sent = sorted(_received(mp_sandbox, "o-buyer"), key=lambda row: row["id"])
    assert [row["template_id"] for row in sent] == ["TPL_ORDER_PAID", "TPL_RECHARGE_DONE"]
    paid, done = (row["body"]["data"] for row in sent)
    assert (paid["keyword1"]["value"], paid["keyword2"]["value"]) == (number, "¥49.80")
    assert (done["keyword1"]["value"], done["keyword2"]["value"]) == (NUMBER, "¥49.80")
    assert sent[0]["body"]["url"].endswith(f"/orders/{number}/")


def test_a_line_that_is_not_airtime_gets_the_delivered_template(mp_sandbox):  # noqa: F811
    vip = small_catalog()["vip"]
    buyer = User.objects.create_user("13700137000")
    WechatBinding.objects.create(user=buyer, openid="o-digital")
    payments.points_grant(user_id=buyer.pk, points=1500, key="g-digital", reason="t")
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=vip.skus.get().pk, quantity=1)
    with outbox_handled(tasks=True):
        number = orders.checkout_submit(user_id=buyer.pk, checkout_key="kd", points=1500).number

    sent = sorted(_received(mp_sandbox, "o-digital"), key=lambda row: row["id"])
    assert [row["template_id"] for row in sent] == ["TPL_ORDER_PAID", "TPL_DELIVERED"]
    delivered = sent[1]["body"]["data"]
    assert (delivered["keyword1"]["value"], delivered["keyword2"]["value"]) == (number, vip.name)
    assert sent[1]["body"]["url"].endswith(f"/orders/{number}/")


def test_an_unbound_buyer_gets_nothing(airtime, mp_sandbox):  # noqa: F811
    User.objects.create_user("13900139000")
    url = f"{mp_sandbox.url}/mp/sandbox/received"
    before = httpx.get(url, params={"kind": "template"}).json()["items"]

    number = _buy(airtime, "13900139000")

    after = httpx.get(url, params={"kind": "template"}).json()["items"]
    assert len(after) == len(before)
    assert number not in str(after)


def test_a_template_key_is_sent_once(mp_sandbox):  # noqa: F811
    args = {
        "kind": "delivered",
        "openid": "o-once",
        "data": {"first": "x"},
        "url": "",
        "key": "k-1",
    }

    assert services.template_send(**args) is True
    assert services.template_send(**args) is False
    assert len(_received(mp_sandbox, "o-once")) == 1


def test_the_menu_is_published_to_the_sandbox(mp_sandbox, client):  # noqa: F811
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    group = MenuButton.objects.create(name="我的", kind="group", position=1)
    MenuButton.objects.create(name="查话费", kind="click", key="BALANCE", parent=group)
    MenuButton.objects.create(name="查流量", kind="click", key="DATA", parent=group, position=1)
    MenuButton.objects.create(name="商城", kind="view", url="https://example.com/", position=0)

    response = client.post(
        "/admin/wechat/menubutton/",
        {"action": "sync_menu", "_selected_action": [group.pk]},
    )

    assert response.status_code == 302
    menus = httpx.get(f"{mp_sandbox.url}/mp/sandbox/received", params={"kind": "menu"}).json()
    assert menus["items"][0]["body"] == {
        "button": [
            {"type": "view", "name": "商城", "url": "https://example.com/"},
            {"name": "我的", "sub_button": [
                {"type": "click", "name": "查话费", "key": "BALANCE"},
                {"type": "click", "name": "查流量", "key": "DATA"},
            ]},
        ]
    }  # fmt: skip
