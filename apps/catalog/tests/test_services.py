"""Catalog writes: attributes, sanitising, thumbnails, stock reservations under concurrency."""

import io
import os
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.catalog import services
from apps.catalog.errors import InvalidAttributes, OutOfStock, SkuNotFound
from apps.catalog.models import Product, Sku, StockReservation
from apps.catalog.tests.factories import category, product, product_type

pytestmark = pytest.mark.django_db

SCHEMA = [
    {"key": "volume", "label": "流量", "type": "str", "required": True},
    {"key": "days", "label": "有效期", "type": "int", "required": True},
    {
        "key": "scope",
        "label": "范围",
        "type": "choice",
        "choices": ["全国", "省内"],
        "required": False,
    },
]


def test_attributes_are_checked_against_the_type():
    assert services.validate_attributes(SCHEMA, {"volume": "10GB", "days": "30"}) == {
        "volume": "10GB",
        "days": 30,
    }
    with pytest.raises(InvalidAttributes) as info:
        services.validate_attributes(SCHEMA, {"days": "x", "scope": "火星", "colour": "red"})
    assert info.value.details == {
        "colour": "unknown attribute",
        "volume": "required",
        "days": "must be a whole number",
        "scope": "must be one of 全国, 省内",
    }


def test_create_rejects_bad_attributes_and_writes_nothing():
    cat = category("data")
    ptype = product_type("data_pack", schema=SCHEMA)
    with pytest.raises(InvalidAttributes):
        product(cat, ptype, "坏的流量包", attributes={"volume": "1GB"})
    assert not Product.objects.exists()
    assert not Sku.objects.exists()


def test_description_is_sanitised():
    html = '<p onclick="x()">好<script>alert(1)</script><img src="/a.png" onerror="y()"></p>'
    assert services.sanitize_description(html) == '<p>好<img src="/a.png"></p>'


def test_derived_fields_and_search_terms():
    cat = category("phones", kind="physical")
    created = product(
        cat,
        product_type("phone", kind="physical"),
        "华为 Mate 70",
        name_en="Huawei Mate 70",
        price=699900,
        stock=0,
    )
    assert created.kind == "physical"
    assert created.min_price_fen == 699900
    assert created.in_stock is False
    assert created.search_terms_a == "华为 mate 70 huawei mate 70"
    assert created.search_text == "华为 mate 70 huawei mate 70"


def test_thumbnail_is_generated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cat = category("merch", kind="physical")
    created = product(cat, product_type("merch", kind="physical"), "保温杯")
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "red").save(buffer, format="PNG")
    created.image = SimpleUploadedFile("cup.png", buffer.getvalue(), content_type="image/png")
    created.save()
    services.product_reindex(product_id=created.pk)
    created.refresh_from_db()
    # Both sizes square (a 4:3 picture centred on white), so pages reserve the space.
    with Image.open(created.thumbnail.path) as thumb, Image.open(created.image.path) as large:
        assert (thumb.size, large.size) == ((400, 400), (800, 800))
        assert thumb.getpixel((200, 10)) == (255, 255, 255)
        assert thumb.getpixel((200, 200))[0] > 240  # red


def test_a_new_picture_replaces_the_old_files_and_an_svg_is_its_own_thumbnail(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    created = product(category("merch", kind="physical"), product_type("m", kind="physical"), "杯")
    buffer = io.BytesIO()
    Image.new("RGB", (300, 600), "blue").save(buffer, format="PNG")
    services.product_image_set(product_id=created.pk, name="cup.png", content=buffer.getvalue())
    created.refresh_from_db()
    first = [created.image.path, created.thumbnail.path]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"></svg>'
    services.product_image_set(product_id=created.pk, name="art.svg", content=svg)
    created.refresh_from_db()
    assert created.image.name.endswith(".svg") and created.thumbnail.name == created.image.name
    assert not any(os.path.exists(path) for path in first)


def test_a_banner_picture_is_cropped_to_the_banner_size(settings, tmp_path):
    from apps.catalog.models import Banner

    settings.MEDIA_ROOT = tmp_path
    banner = Banner.objects.create(title="促销", link="/c/data/")
    buffer = io.BytesIO()
    Image.new("RGB", (1000, 1000), "green").save(buffer, format="JPEG")
    services.banner_image_set(banner_id=banner.pk, name="b.jpg", content=buffer.getvalue())
    banner.refresh_from_db()
    with Image.open(banner.image.path) as picture:
        assert picture.size == (1200, 400)


def _stocked(quantity: int) -> Sku:
    cat = category("cards", kind="physical")
    return product(
        cat, product_type("card", kind="physical"), "充值卡 100元", stock=quantity
    ).skus.get()


def test_reserve_release_commit():
    sku = _stocked(5)
    services.stock_reserve(lines=[(sku.pk, 3)], reference="order:1")
    services.stock_reserve(lines=[(sku.pk, 3)], reference="order:1")  # a repeat holds nothing more
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_reserved) == (5, 3)
    with pytest.raises(OutOfStock) as info:
        services.stock_reserve(lines=[(sku.pk, 3)], reference="order:2")
    assert info.value.details == {"available": {sku.pk: 2}}
    assert services.stock_release(reference="order:1") == 3
    assert services.stock_release(reference="order:1") == 0
    services.stock_reserve(lines=[(sku.pk, 5)], reference="order:3")
    assert services.stock_commit(reference="order:3") == 5
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_reserved) == (0, 0)
    assert Product.objects.get(pk=sku.product_id).in_stock is False
    assert list(StockReservation.objects.order_by("id").values_list("status", flat=True)) == [
        "released",
        "committed",
    ]


def test_reserve_unknown_sku_or_bad_quantity():
    sku = _stocked(5)
    with pytest.raises(SkuNotFound):
        services.stock_reserve(lines=[(sku.pk, 1), (999999, 1)], reference="o")
    with pytest.raises(OutOfStock):
        services.stock_reserve(lines=[(sku.pk, 0)], reference="o")
    sku.refresh_from_db()
    assert sku.stock_reserved == 0


def test_database_refuses_negative_stock():
    from django.db import IntegrityError, transaction

    sku = _stocked(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.filter(pk=sku.pk).update(stock_reserved=2)


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_ten_in_stock_exactly_ten_win():
    sku = _stocked(10)
    wins, losses = [], []
    barrier = threading.Barrier(50)

    def buyer(n: int) -> None:
        barrier.wait()
        try:
            services.stock_reserve(lines=[(sku.pk, 1)], reference=f"order:{n}")
            wins.append(n)
        except OutOfStock:
            losses.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sku.refresh_from_db()
    assert (len(wins), len(losses)) == (10, 40)
    assert (sku.stock_on_hand, sku.stock_reserved) == (10, 10)
    assert StockReservation.objects.filter(status="held").count() == 10


def _stocked_many(*quantities: int) -> list[Sku]:
    cat, ptype = category("cards", kind="physical"), product_type("card", kind="physical")
    return [
        product(cat, ptype, f"充值卡 {n}", stock=quantity).skus.get()
        for n, quantity in enumerate(quantities)
    ]


def test_many_lines_are_held_with_one_update_and_one_insert():
    skus = _stocked_many(5, 5, 5)
    with CaptureQueriesContext(connection) as captured:
        services.stock_reserve(
            lines=[(s.pk, n) for s, n in zip(skus, (1, 2, 3), strict=True)], reference="o:1"
        )
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith('UPDATE "catalog_sku"') for s in sqls) == 1, sqls
    assert sum(s.startswith('INSERT INTO "catalog_stockreservation"') for s in sqls) == 1, sqls
    assert [Sku.objects.get(pk=s.pk).stock_reserved for s in skus] == [1, 2, 3]
    assert sorted(StockReservation.objects.values_list("sku_id", "quantity", "reference")) == [
        (skus[0].pk, 1, "o:1"), (skus[1].pk, 2, "o:1"), (skus[2].pk, 3, "o:1"),
    ]  # fmt: skip


def test_a_short_line_holds_nothing_of_the_others():
    plenty, scarce = _stocked_many(5, 1)
    with pytest.raises(OutOfStock) as info:
        services.stock_reserve(lines=[(plenty.pk, 2), (scarce.pk, 2)], reference="o:1")
    assert info.value.details == {"available": {scarce.pk: 1}}
    assert [Sku.objects.get(pk=s.pk).stock_reserved for s in (plenty, scarce)] == [0, 0]
    assert not StockReservation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_buyers_of_two_skus_in_either_line_order_neither_oversell_nor_deadlock():
    first, second = _stocked_many(10, 10)
    wins, losses, errors = [], [], []
    barrier = threading.Barrier(30)

    def buyer(n: int) -> None:
        lines = [(first.pk, 1), (second.pk, 1)]
        barrier.wait()
        try:
            services.stock_reserve(lines=lines if n % 2 else lines[::-1], reference=f"order:{n}")
            wins.append(n)
        except OutOfStock:
            losses.append(n)
        except Exception as exc:  # a deadlock would land here
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (len(wins), len(losses)) == (10, 20)
    for sku in (first, second):
        sku.refresh_from_db()
        assert (sku.stock_on_hand, sku.stock_reserved) == (10, 10)
    assert StockReservation.objects.filter(status="held").count() == 20
