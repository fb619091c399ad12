"""A real browser (headless Chromium driven by Playwright) searches, opens a product, adds it to the cart."""

import os
import shutil

import pytest

from apps.catalog.tests.factories import small_catalog

CHROMIUM = (
    os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="needs Chromium (Debian package `chromium`; .ci/run installs it)"
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def browser_page():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


@pytest.mark.django_db(transaction=True)
def test_search_open_product_add_to_cart(live_server, browser_page):
    small_catalog()
    page = browser_page
    page.goto(live_server.url + "/")
    page.fill("#q", "视频会员")
    page.press("#q", "Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".product-card").count() == 1
    assert page.locator(".product-card mark").first.inner_text() == "视频"
    page.click(".product-card a")
    page.wait_for_selector("h1:has-text('视频会员 月卡')")
    page.fill("#quantity", "2")
    page.click("button:has-text('加入购物车')")
    page.wait_for_url("**/cart/")
    assert "已加入购物车" in page.inner_text(".messages")
    assert page.input_value("input[name=quantity]") == "2"
    assert page.inner_text(".total") == "合计: ¥30.00"


@pytest.mark.django_db(transaction=True)
def test_language_switch_to_english(live_server, browser_page):
    small_catalog()
    page = browser_page
    page.goto(live_server.url + "/")
    page.select_option("#lang-select", "en")
    page.click(".lang button")
    page.wait_for_selector("button:has-text('Search')")
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.django_db(transaction=True)
def test_buy_and_pay_with_alipay_in_the_browser(
    live_server, browser_page, carrier_sandbox, settings, client
):
    """Checkout, the sandbox's Alipay cashier, back to the result page, which sees the payment."""
    from apps.accounts.models import User

    settings.PAYMENTS_PUBLIC_BASE_URL = live_server.url
    catalog = small_catalog()
    user = User.objects.create_user("13800138000")
    client.force_login(user)
    page = browser_page
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/p/{catalog['vip'].pk}/")
    page.click("button:has-text('加入购物车')")
    page.wait_for_url("**/cart/")
    page.click("a:has-text('去结算')")
    page.wait_for_url("**/checkout/")
    page.click("button:has-text('提交订单')")
    page.wait_for_url("**/pay/")
    page.check("input[value='alipay:page']")
    page.click("button:has-text('立即支付')")
    page.wait_for_selector("text=沙箱收银台")
    page.click("#pay-form button[type=submit]")
    page.wait_for_url("**/result/**")
    page.wait_for_selector("text=支付成功", timeout=15_000)
