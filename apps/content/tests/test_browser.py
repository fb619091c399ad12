"""A subscriber buys a reading product on a phone-sized browser: the hosted pay page, the phone
bill's texted code, then the chapters open (screenshots under var/screenshots/)."""

from __future__ import annotations

import re

import pytest

from apps.accounts.models import User
from apps.content import services
from apps.content.models import Charge
from apps.content.tests.support import approved_cp, product_on_sale
from tests.fixtures.sandbox_support import unique_msisdn
from tests.test_browser_mall import CHROMIUM, browser  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package `chromium`)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def viewport() -> str:
    return "phone"


def test_a_subscriber_buys_a_novel_on_a_phone_and_reads_it(browser, carrier_sandbox):  # noqa: F811
    cp = approved_cp()
    novel = product_on_sale(cp, price_fen=300, kind="reading", chapters=3)
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=5_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=novel.pk, phone_number=msisdn,
                                    cp_order_id="B-1", channel="web")  # fmt: skip
    page = browser
    page.sign_in(User.objects.get(phone=msisdn))
    page.goto(f"{page.base}/pay/content/{charge.pk}/")
    page.shot("content-pay")
    page.check("input[value='carrier_billing']")
    page.click("button:has-text('立即支付')")
    page.wait_for_selector("#code")
    code = re.search(r"验证码(\d{6})", carrier_sandbox.messages(msisdn)[0]["text"])
    assert code is not None
    page.fill("#code", code.group(1))
    page.click("button:has-text('确认支付')")
    page.wait_for_selector("[data-testid=paid]")
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    page.click("a:has-text('打开')")
    page.wait_for_selector("[data-testid=chapters]")
    page.click("a:has-text('第2章')")
    page.wait_for_selector("[data-testid=chapter]")
    assert "正文2" in page.inner_text("[data-testid=chapter]")
    page.shot("content-chapter")
