"""Electronic invoices: asked for on a paid order, issued by finance, downloaded as a PDF."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.models import AuditEvent
from apps.core.tests.test_pdf_font import embedded_font_names
from apps.orders.tests.support import paid_order
from apps.service import selectors, services
from apps.service.errors import InvalidTaxNumber, InvoiceAlreadyRequested, InvoiceNotAllowed
from apps.service.models import Invoice
from apps.service.tax import tax_split, uscc_check_char, uscc_valid

pytestmark = pytest.mark.django_db
COMPANY_CODE = "91350100M000100Y43"  # a well-formed unified social credit code


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def test_tax_numbers_and_tax_arithmetic():
    assert uscc_valid(COMPANY_CODE)
    assert not uscc_valid("91350100M000100Y44")  # wrong check character
    assert not uscc_valid("9135010OM000100Y43")  # O is not in the code's alphabet
    assert uscc_check_char("91110000MA01CHUB0") == "G"
    assert tax_split(10900, Decimal("0.09")) == (10000, 900)
    assert tax_split(9980, Decimal("0.09")) == (9156, 824)


def test_a_company_invoice_needs_a_valid_code_and_only_one_per_order(buyer):
    order = paid_order(buyer, [small_catalog()["vip"]])
    with pytest.raises(InvalidTaxNumber):
        services.invoice_request(user_id=buyer.pk, order_number=order.number,
                                 title_type="company", title="某某科技有限公司", tax_number="12345")  # fmt: skip
    assert not Invoice.objects.exists()
    invoice = services.invoice_request(
        user_id=buyer.pk, order_number=order.number, title_type="company",
        title="某某科技有限公司", tax_number=COMPANY_CODE.lower(),
    )  # fmt: skip
    assert (invoice.status, invoice.amount_fen, invoice.tax_number) == (
        "requested",
        1500,
        COMPANY_CODE,
    )
    with pytest.raises(InvoiceAlreadyRequested):
        services.invoice_request(user_id=buyer.pk, order_number=order.number,
                                 title_type="personal", title="张三")  # fmt: skip
    assert Invoice.objects.count() == 1


def test_an_unpaid_or_someone_elses_order_gets_no_invoice(buyer, client):
    from apps.orders import services as orders
    from apps.orders.services import CartOwner

    catalog = small_catalog()
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=catalog["vip"].skus.get().pk)
    unpaid = orders.checkout_submit(user_id=buyer.pk, checkout_key="u")
    with pytest.raises(InvoiceNotAllowed):
        services.invoice_request(user_id=buyer.pk, order_number=unpaid.number,
                                 title_type="personal", title="张三")  # fmt: skip
    other = User.objects.create_user("13900139000")
    with pytest.raises(InvoiceNotAllowed):
        services.invoice_request(user_id=other.pk, order_number=unpaid.number,
                                 title_type="personal", title="李四")  # fmt: skip
    assert not Invoice.objects.exists()


def test_request_issue_and_download_the_pdf_in_chinese(buyer, client):
    catalog = small_catalog()
    order = paid_order(buyer, [catalog["vip"], catalog["iphone"]])
    client.force_login(buyer)
    form = client.get(f"/orders/{order.number}/invoice/")
    assert form.status_code == 200 and "统一社会信用代码" in form.content.decode()
    bad = client.post(f"/orders/{order.number}/invoice/",
                      {"title_type": "company", "title": "某某科技有限公司", "tax_number": "123"})  # fmt: skip
    assert bad.status_code == 400 and not Invoice.objects.exists()
    sent = client.post(f"/orders/{order.number}/invoice/",
                       {"title_type": "company", "title": "某某科技有限公司", "tax_number": COMPANY_CODE})  # fmt: skip
    assert sent["Location"] == "/my/invoices/"
    invoice = Invoice.objects.get()
    assert client.get(f"/my/invoices/{invoice.pk}/pdf/").status_code == 404  # not issued yet

    finance = User.objects.create_superuser("13700000000", "pw")
    client.force_login(finance)
    client.post("/admin/service/invoice/", {"action": "issue", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.status == "issued" and len(invoice.invoice_number) == 20
    assert AuditEvent.objects.filter(object_type="invoice", action="invoice.issued").count() == 1

    client.force_login(buyer)
    listing = client.get("/my/invoices/").content.decode()
    assert "已开具" in listing and f"/my/invoices/{invoice.pk}/pdf/" in listing
    pdf = client.get(f"/my/invoices/{invoice.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in ("电子发票（普通发票）", f"发票号码：{invoice.invoice_number}", "名称：某某科技有限公司",
                     COMPANY_CODE, "CarrierHub 数字科技有限公司", "视频会员 月卡", "iPhone 16",
                     "6%", "13%", "价税合计（小写）：¥6,014.00", order.number):  # fmt: skip
        assert expected in text, expected
    assert embedded_font_names(pdf.content), "the CJK font is embedded, not left to the viewer"
    other = User.objects.create_user("13900139000")
    client.force_login(other)
    assert client.get(f"/my/invoices/{invoice.pk}/pdf/").status_code == 404


def test_issuing_twice_changes_nothing(buyer):
    order = paid_order(buyer, [small_catalog()["vip"]])
    invoice = services.invoice_request(user_id=buyer.pk, order_number=order.number,
                                       title_type="personal", title="张三")  # fmt: skip
    first = services.invoice_issue(invoice_id=invoice.id)
    second = services.invoice_issue(invoice_id=invoice.id)
    assert first.invoice_number == second.invoice_number
    assert [i.status for i in selectors.invoices_for_user(user_id=buyer.pk)] == ["issued"]
