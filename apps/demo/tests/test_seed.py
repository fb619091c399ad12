"""Demo data: idempotent seed covering every category; bulk generation for benchmarks."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from apps.accounts.models import User
from apps.catalog.models import Banner, Category, Product, Sku
from apps.catalog.selectors import SearchFilters, product_search
from apps.demo.service_seed import FAQS
from apps.service.models import FaqEntry

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_covers_every_category(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=None)
    products, users, skus = Product.objects.count(), User.objects.count(), Sku.objects.count()
    call_command("seed_demo")
    assert (Product.objects.count(), User.objects.count(), Sku.objects.count()) == (
        products,
        users,
        skus,
    )
    assert products >= 200
    # Every product and banner has a drawn picture, its own thumbnail (an SVG scales).
    assert not Product.objects.filter(image="").exists()
    assert not Product.objects.exclude(thumbnail=F("image")).exists()
    assert not Banner.objects.filter(image="").exists()
    assert FaqEntry.objects.count() == len(FAQS)
    # English mode has English subtitles for the formulaic lines of the demo catalog.
    assert Product.objects.get(name="全国移动话费充值 100元").subtitle_en.startswith("Fast top-up")
    assert Product.objects.get(name="5G智享套餐 58元档").subtitle_en == (
        "30GB of data and 200 minutes of calls; starts next month"
    )
    # ... and English variant names, content subtitles and attribute labels.
    assert not Sku.objects.filter(name_en="").exists()
    assert Sku.objects.get(code="AIR-nation-100").name_en == "100 yuan"
    assert Product.objects.get(name="星海战纪 月卡").subtitle_en == "300 coins every day"
    # Every digital product with a subtitle has its English one (CP listings carry none).
    assert not Product.objects.filter(kind="digital", subtitle_en="").exclude(subtitle="").exists()
    schema = Product.objects.get(name="全国移动话费充值 100元").product_type.attribute_schema
    assert schema[0]["label_en"] == "Face value" and schema[0]["unit_en"] == " yuan"
    airtime = Product.objects.get(name="全国移动话费充值 100元")
    svg = (tmp_path / airtime.image.name).read_text()
    assert ">100元</text>" in svg and ">全国话费充值</text>" in svg
    phone = (tmp_path / Product.objects.get(name="华为 Mate 70 Pro").image.name).read_text()
    assert "#c7000b" in phone and ">Mate 70 Pro</text>" in phone
    empty = Category.objects.filter(parent__isnull=False, products__isnull=True)
    assert list(empty.values_list("slug", flat=True)) == []
    assert User.objects.get(phone="+8613800000000").check_password("carrierhub-demo")
    # The search examples hold on the demo catalog.
    assert "全国通用流量包 10GB 30天" in [
        i.name for i in product_search(filters=SearchFilters(query="流量", page=1)).items
    ] or (
        product_search(filters=SearchFilters(query="全国通用流量包 10GB"))
        .items[0]
        .name.startswith("全国通用流量包 10GB")
    )
    assert (
        product_search(filters=SearchFilters(query="video vip")).items[0].name
        == "咪咕视频 VIP会员 年卡"
    )
    assert {i.name for i in product_search(filters=SearchFilters(query="iphone")).items} == {
        "iPhone 16",
        "iPhone 16 Pro",
    }


def test_gen_catalog_bulk_loads_searchable_products():
    call_command("gen_catalog", "--products", "300", "--batch", "120")
    generated = Product.objects.filter(skus__code__startswith="GEN-")
    assert generated.count() == 300
    assert Sku.objects.filter(code__startswith="GEN-").count() == 300
    sample = generated.order_by("id").first()
    found = product_search(filters=SearchFilters(query=sample.name))
    assert found.items[0].id == sample.id
    call_command("gen_catalog", "--products", "10")
    assert Product.objects.filter(skus__code__startswith="GEN-").count() == 310


def test_gen_catalog_refuses_bad_sizes():
    with pytest.raises(CommandError):
        call_command("gen_catalog", "--products", "0")


def test_gen_catalog_rebuilds_its_indexes_after_a_large_load(monkeypatch):
    """From REBUILD_INDEXES_FROM products the GIN indexes are dropped and rebuilt once; the
    deferred foreign-key checks must run first or PostgreSQL refuses to build an index."""
    from django.db import connection

    from apps.demo.management.commands import gen_catalog

    monkeypatch.setattr(gen_catalog, "REBUILD_INDEXES_FROM", 100)
    call_command("gen_catalog", "--products", "150")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'catalog_product_%%gin' ORDER BY 1"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "catalog_product_search_gin",
            "catalog_product_trgm_gin",
        ]
    sample = Product.objects.filter(skus__code__startswith="GEN-").order_by("id").first()
    assert product_search(filters=SearchFilters(query=sample.name)).items[0].id == sample.id


def test_gen_catalog_rebuilds_its_indexes_with_foreign_keys_pending(monkeypatch):
    # From REBUILD_INDEXES_FROM products up the GIN indexes are dropped and rebuilt inside the
    # load's transaction, where PostgreSQL refuses CREATE INDEX while the copied rows' deferred
    # foreign-key checks are pending ("pending trigger events"), as at 100,000 products.
    from apps.demo.management.commands import gen_catalog

    monkeypatch.setattr(gen_catalog, "REBUILD_INDEXES_FROM", 100)
    call_command("gen_catalog", "--products", "150", "--batch", "60")
    assert Product.objects.filter(skus__code__startswith="GEN-").count() == 150
    sample = Product.objects.filter(skus__code__startswith="GEN-").order_by("id").last()
    assert product_search(filters=SearchFilters(query=sample.name)).items[0].id == sample.id
