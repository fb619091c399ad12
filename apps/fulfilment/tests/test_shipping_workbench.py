"""The workbench: shipping an order by hand and by dispatch file (all rows or none)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from apps.accounts.models import User
from apps.catalog.tests.factories import product, product_type, small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment.models import Shipment
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    found = small_catalog()
    found["case"] = product(found["phones"], product_type("case", kind="physical"), "手机壳",
                            price=2900, stock=10)  # fmt: skip
    return found


@pytest.fixture
def orders(catalog):
    buyer = User.objects.create_user("13800138000")
    return (
        paid_order(buyer, [catalog["iphone"], catalog["case"], catalog["vip"]], key="a"),
        paid_order(buyer, [catalog["case"]], key="b"),
    )


@pytest.fixture
def operator(client):
    user = User.objects.create_superuser("13800000000", "pw")
    client.force_login(user)
    return user


def _physical(order):
    return list(order.lines.filter(kind="physical").order_by("pk").values_list("pk", flat=True))


def test_an_operator_ships_lines_from_the_order_page(client, operator, orders):
    order = orders[0]
    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert f"/admin/fulfilment/shipment/ship/{order.number}/" in page.content.decode()
    form = client.get(f"/admin/fulfilment/shipment/ship/{order.number}/")
    assert form.status_code == 200
    assert "iPhone 16" in form.content.decode() and "视频会员" not in form.content.decode()
    bad = client.post(f"/admin/fulfilment/shipment/ship/{order.number}/",
                      {"lines": _physical(order), "courier": "sf", "tracking_number": "x"})  # fmt: skip
    assert bad.status_code == 400
    assert not Shipment.objects.exists()
    done = client.post(f"/admin/fulfilment/shipment/ship/{order.number}/",
                       {"lines": _physical(order)[:1], "courier": "jd", "tracking_number": "JD0001234567"})  # fmt: skip
    assert done.status_code == 302
    shipment = Shipment.objects.get()
    assert (shipment.courier, shipment.tracking_number, shipment.shipped_by_id) == (
        "jd", "JD0001234567", operator.pk,
    )  # fmt: skip
    assert list(shipment.lines.values_list("line_id", flat=True)) == _physical(order)[:1]


def _csv(rows):
    text = "\n".join(",".join(str(c) for c in row) for row in rows)
    return SimpleUploadedFile("dispatch.csv", text.encode("utf-8-sig"))


def test_a_dispatch_file_with_a_bad_row_imports_nothing(client, operator, orders):
    a, b = orders
    digital = a.lines.get(kind="digital").pk
    upload = _csv([
        ["order_number", "line", "courier", "tracking_number"],
        [a.number, _physical(a)[0], "sf", "SF100000001"],
        [a.number, digital, "sf", "SF100000002"],  # not a physical line
        [b.number, _physical(b)[0], "DHL", "DH100000003"],  # unknown courier
        [b.number, "abc", "zto", "ZT100000004"],
    ])  # fmt: skip
    answer = client.post("/admin/fulfilment/shipment/import/", {"file": upload})
    assert answer.status_code == 400
    report = answer.context["report"]
    assert report.applied is False
    assert [(r.number, r.outcome) for r in report.rows] == [
        (2, ""), (3, "error"), (4, "error"), (5, "error"),
    ]  # fmt: skip
    assert not Shipment.objects.exists()
    assert set(a.lines.filter(kind="physical").values_list("fulfilment", flat=True)) == {"ready"}


def test_a_good_file_ships_once_even_when_imported_twice(client, operator, orders):
    a, b = orders
    rows = [
        ["订单号", "行号", "快递公司", "运单号"],
        [a.number, _physical(a)[0], "顺丰", "SF200000001"],
        [a.number, _physical(a)[1], "sf", "SF200000001"],  # the same parcel
        [b.number, _physical(b)[0], "ZTO Express", "zt200000002"],
    ]
    first = client.post("/admin/fulfilment/shipment/import/", {"file": _csv(rows)})
    assert first.status_code == 200
    assert [r.outcome for r in first.context["report"].rows] == ["created"] * 3
    assert sorted(Shipment.objects.values_list("courier", "tracking_number")) == [
        ("sf", "SF200000001"), ("zto", "ZT200000002"),
    ]  # fmt: skip
    again = client.post("/admin/fulfilment/shipment/import/", {"file": _csv(rows)})
    assert again.status_code == 200
    assert [r.outcome for r in again.context["report"].rows] == ["already"] * 3
    assert Shipment.objects.count() == 2


def test_an_xlsx_file_and_unreadable_files(client, operator, orders):
    a, _ = orders
    book = Workbook()
    sheet = book.active
    sheet.append(["order_number", "line", "courier", "tracking_number"])
    sheet.append([a.number, float(_physical(a)[0]), "ems", "EM300000001"])
    raw = io.BytesIO()
    book.save(raw)
    xlsx = SimpleUploadedFile("dispatch.xlsx", raw.getvalue())
    assert client.post("/admin/fulfilment/shipment/import/", {"file": xlsx}).status_code == 200
    assert Shipment.objects.get().courier == "ems"
    for name, content in [("x.txt", b"a"), ("x.xlsx", b"not a zip"), ("x.csv", b"order,line\n1,2")]:
        answer = client.post("/admin/fulfilment/shipment/import/",
                             {"file": SimpleUploadedFile(name, content)})  # fmt: skip
        assert answer.status_code == 400
        assert answer.context["form"].errors["file"]
    assert Shipment.objects.count() == 1


def test_buyers_cannot_use_the_workbench(client, orders):
    client.force_login(User.objects.get(phone="+8613800138000"))
    assert client.get("/admin/fulfilment/shipment/import/").status_code == 302
    assert client.post(f"/admin/fulfilment/shipment/ship/{orders[0].number}/",
                       {"lines": _physical(orders[0]), "courier": "sf",
                        "tracking_number": "SF100000009"}).status_code == 302  # fmt: skip
    assert not Shipment.objects.exists()


def test_a_tracking_file_applies_row_by_row_and_a_repeat_changes_nothing(client, operator, orders):
    a, _ = orders
    client.post(f"/admin/fulfilment/shipment/ship/{a.number}/",
                {"lines": _physical(a), "courier": "sf", "tracking_number": "SF400000001"})  # fmt: skip
    assert "import-tracking" in client.get("/admin/fulfilment/shipment/").content.decode()
    rows = [
        ["courier", "tracking_number", "status", "occurred_at", "location"],
        ["sf", "SF400000001", "运输中", "2099-01-01 10:00:00", "广州"],
        ["顺丰", "SF400000001", "delivered", "2099-01-01 12:00:00", "深圳"],
        ["sf", "SF400000001", "in_transit", "2099-01-01 11:00:00", "东莞"],  # older: kept
        ["sf", "SF499999999", "delivered", "2099-01-01 12:00:00", ""],  # unknown number
        ["sf", "SF400000001", "lost", "2099-01-01 12:00:00", ""],
    ]
    with outbox_handled():
        first = client.post("/admin/fulfilment/shipment/import-tracking/", {"file": _csv(rows)})
    assert first.status_code == 200
    assert [r.outcome for r in first.context["rows"]] == [
        "applied",
        "applied",
        "kept",
        "error",
        "error",
    ]
    shipment = Shipment.objects.get()
    assert shipment.status == "delivered"
    assert str(shipment.delivered_at) == "2099-01-01 04:00:00+00:00"  # Asia/Shanghai noon
    assert set(a.lines.filter(kind="physical").values_list("fulfilment", flat=True)) == {
        "delivered"
    }
    again = client.post("/admin/fulfilment/shipment/import-tracking/", {"file": _csv(rows)})
    assert [r.outcome for r in again.context["rows"]] == ["duplicate"] * 3 + ["error"] * 2
    assert shipment.events.count() == 3
