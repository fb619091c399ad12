"""The mall in a real browser at a phone's and a desktop's size: recharge in three taps, buy now,
order tabs, invoice to PDF, the address picker, a ticket's thread, and the WeChat QR page moving
on after payment. Each test saves screenshots under var/screenshots/ (ignored by git)."""

import io
import os
import shutil
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from apps.accounts.models import User
from apps.catalog import services as catalog_services
from apps.catalog.services import SkuSpec
from apps.catalog.tests.factories import category, product_type, small_catalog
from apps.orders.models import CartLine, Order
from apps.orders.tests.support import paid_order
from apps.service import services as service
from apps.service.models import Invoice

CHROMIUM = (
    os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
)
pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package `chromium`)"),
    pytest.mark.django_db(transaction=True),
]
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
COMPANY_CODE = "91350100M000100Y43"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def browser(viewport, live_server, client):
    """A Chromium page at the viewport's size; ``sign_in(user)`` gives it the user's session."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = chromium.new_context(
            locale="zh-CN", viewport=VIEWPORTS[viewport], accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)

        def sign_in(user):
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": live_server.url}])  # fmt: skip

        def shot(name):
            page.screenshot(path=str(SHOTS / f"{name}-{viewport}.png"), full_page=False)

        page.sign_in, page.shot, page.base = sign_in, shot, live_server.url
        yield page
        context.close()
        chromium.close()


def _airtime():
    airtime = category("airtime", name="话费充值")
    kind = product_type("airtime", needs_number=True,
                        schema=[{"key": "face_value", "label": "面值", "type": "int", "required": True}])  # fmt: skip
    for value in (10, 20, 30, 50, 100, 200, 300, 500):
        price = value * 100 - (value // 100) * 20
        catalog_services.product_create(
            category_id=airtime.pk, product_type_id=kind.pk, name=f"全国移动话费充值 {value}元",
            attributes={"face_value": value}, skus=[SkuSpec(f"AIR-{value}", f"{value}元", price, value * 100)],
        )  # fmt: skip


def test_recharge_in_three_taps_from_the_home_page(browser, carrier_sandbox):
    small_catalog()
    _airtime()
    buyer = User.objects.create_user("13800138000")
    browser.sign_in(buyer)
    page = browser
    page.goto(page.base + "/")
    # The box's personal part loads after the (cacheable) page: the number, its carrier.
    page.wait_for_function("document.querySelector('#recharge-msisdn').value === '13800138000'")
    page.wait_for_selector("#number-info:has-text('中国移动')")
    page.shot("home")
    taps = 0
    page.click("label.amount:has-text('50元')")
    taps += 1
    page.click("button.recharge-go")
    taps += 1
    page.wait_for_url("**/orders/*/pay/")
    assert taps <= 3
    order = Order.objects.get()
    line = order.lines.get()
    assert (line.product_name, line.recipient_msisdn, order.payable_fen) == (
        "全国移动话费充值 50元", "+8613800138000", 5000)  # fmt: skip
    page.shot("cashier")


def test_buy_now_goes_to_a_one_item_checkout_and_leaves_the_cart(browser):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    browser.sign_in(buyer)
    page = browser
    page.goto(f"{page.base}/p/{catalog['vip'].pk}/")
    page.click("button:has-text('加入购物车')")
    page.wait_for_url("**/cart/")
    page.goto(f"{page.base}/p/{catalog['iphone'].pk}/")
    page.shot("product")
    page.click("button:has-text('立即购买')")
    page.wait_for_url("**/buy/")
    page.fill("#id_name", "张三")
    page.fill("#id_phone", "13800138000")
    page.fill("#id_province", "广东省")
    page.fill("#id_city", "广州市")
    page.fill("#id_address", "天河路1号")
    page.click("button:has-text('提交订单')")
    page.wait_for_url("**/orders/*/pay/")
    assert [line.product_name for line in Order.objects.get().lines.all()] == ["iPhone 16"]
    assert list(CartLine.objects.values_list("sku_id", flat=True)) == [catalog["vip"].skus.get().pk]


def test_order_tabs_show_their_counts(browser):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    paid_order(buyer, [catalog["vip"]], key="p1")
    from apps.orders import services as orders
    from apps.orders.services import CartOwner

    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=catalog["vip"].skus.get().pk)
    orders.checkout_submit(user_id=buyer.pk, checkout_key="u1")
    browser.sign_in(buyer)
    page = browser
    page.goto(page.base + "/orders/")
    assert page.inner_text("[data-tab=all] .count") == "2"
    assert page.inner_text("[data-tab=to_pay] .count") == "1"
    page.click("[data-tab=to_pay]")
    page.wait_for_url("**/orders/?tab=to_pay")
    assert page.locator(".order-list .cart-line").count() == 1
    page.shot("orders")


def test_invoice_request_to_pdf_download(browser):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [catalog["vip"]])
    browser.sign_in(buyer)
    page = browser
    page.goto(f"{page.base}/orders/{order.number}/")
    page.click("a:has-text('申请发票')")
    page.check("input[value=company]")
    page.fill("#id_title", "某某科技有限公司")
    page.fill("#id_tax_number", COMPANY_CODE)
    page.shot("invoice-request")
    page.click("button:has-text('提交申请')")
    page.wait_for_url("**/my/invoices/")
    service.invoice_issue(invoice_id=Invoice.objects.get().pk)
    page.reload()
    with page.expect_download() as download:
        page.click("a:has-text('下载PDF')")
    text = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes())).pages[0].extract_text()
    assert "电子发票（普通发票）" in text and "某某科技有限公司" in text and COMPANY_CODE in text
    page.shot("invoices")


def test_the_address_picker_loads_cities_and_districts(browser):
    buyer = User.objects.create_user("13800138000")
    browser.sign_in(buyer)
    page = browser
    page.goto(page.base + "/my/addresses/")
    assert page.input_value("#id_phone") == "13800138000"
    page.fill("#id_name", "张三")
    page.select_option("#id_province", "广东省")
    page.wait_for_selector("#id_city option:has-text('深圳市')", state="attached")
    page.select_option("#id_city", "深圳市")
    page.wait_for_selector("#id_district option:has-text('南山区')", state="attached")
    page.select_option("#id_district", "南山区")
    page.fill("#id_detail", "科技园1号")
    page.shot("address-picker")
    page.click("button:has-text('保存地址')")
    page.wait_for_selector("text=广东省深圳市南山区科技园1号")


def test_a_ticket_thread_with_customer_services_answer(browser):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [catalog["vip"]])
    operator = User.objects.create_superuser("13700000000", "pw")
    browser.sign_in(buyer)
    page = browser
    page.goto(f"{page.base}/orders/{order.number}/")
    page.click("a:has-text('联系客服')")
    page.select_option("#id_kind", "not_received")
    page.fill("#id_body", "付款后会员没有开通")
    page.click("button:has-text('提交')")
    page.wait_for_url("**/my/tickets/*/")
    ticket_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    service.ticket_reply(
        ticket_id=ticket_id, author_id=operator.pk, body="已为您开通", from_staff=True
    )
    page.reload()
    assert page.locator(".thread .message").count() == 2
    assert "已为您开通" in page.inner_text(".thread .message.staff")
    page.shot("ticket")


def test_the_wechat_qr_page_moves_on_after_payment(browser, carrier_sandbox, settings):
    from apps.payments.tests.test_provider_wechat import click

    settings.PAYMENTS_PUBLIC_BASE_URL = browser.base
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    from apps.orders import services as orders
    from apps.orders.services import CartOwner

    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=catalog["vip"].skus.get().pk)
    number = orders.checkout_submit(user_id=buyer.pk, checkout_key="w1").number
    browser.sign_in(buyer)
    page = browser
    page.goto(f"{page.base}/orders/{number}/pay/")
    page.check("input[value='wechat:native']")
    page.click("button:has-text('立即支付')")
    page.wait_for_selector(".qr svg")
    page.shot("wechat-qr")
    qr_link = page.get_attribute(".hint a[target=_blank]", "href") or ""
    assert click(qr_link).status_code == 200  # the buyer pays on their phone
    page.wait_for_url(f"**/orders/{number}/result/", timeout=20_000)
    page.wait_for_selector("text=支付成功", timeout=20_000)
    assert httpx.URL(page.url).path == f"/orders/{number}/result/"
