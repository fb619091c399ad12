"""Small catalogs for tests, built through the services as production builds them."""

from __future__ import annotations

from django.db import transaction

from apps.catalog import services
from apps.catalog.models import Category, Product, ProductType
from apps.catalog.services import SkuSpec


def category(
    slug: str, kind: str = "electronic", parent: Category | None = None, name: str = ""
) -> Category:
    return services.category_create(
        slug=slug,
        name=name or slug,
        name_en=slug,
        kind=kind,
        parent_id=parent.pk if parent else None,
    )


def product_type(
    code: str, kind: str = "electronic", *, needs_number: bool = False, schema=None
) -> ProductType:
    return ProductType.objects.create(
        code=code,
        name=code,
        kind=kind,
        needs_recipient_number=needs_number,
        attribute_schema=schema or [],
    )


def product(cat: Category, ptype: ProductType, name: str, *, price: int = 1000, stock: int | None = None,
            code: str | None = None, **extra) -> Product:  # fmt: skip
    """A product with one SKU; its search terms are written as the on-commit task would."""
    with transaction.atomic():
        created = services.product_create(
            category_id=cat.pk, product_type_id=ptype.pk, name=name,
            skus=[SkuSpec(code or f"SKU-{name}", "default", price, stock=stock)], **extra,
        )  # fmt: skip
    services.product_reindex(product_id=created.pk)
    created.refresh_from_db()
    return created


def small_catalog() -> dict:
    root = category("electronic", name="话费流量")
    data = category("data", parent=root, name="流量包")
    digital = category("digital", kind="digital", name="数字内容")
    video = category("video", kind="digital", parent=digital, name="视频")
    physical = category("physical", kind="physical", name="实物")
    phones = category("phones", kind="physical", parent=physical, name="手机")
    data_type = product_type("data_pack", needs_number=True)
    video_type = product_type("video", kind="digital")
    phone_type = product_type("phone", kind="physical")
    return {
        "data": data,
        "video": video,
        "phones": phones,
        "pack": product(
            data,
            data_type,
            "全国通用流量包 10GB",
            name_en="National data pack 10GB",
            price=3000,
            sales_count=50,
        ),
        "local": product(
            data,
            data_type,
            "省内流量包 5GB",
            name_en="Provincial data pack 5GB",
            price=1000,
            sales_count=80,
        ),
        "vip": product(
            video,
            video_type,
            "视频会员 月卡",
            name_en="Video VIP monthly",
            price=1500,
            sales_count=10,
        ),
        "iphone": product(
            phones,
            phone_type,
            "iPhone 16",
            name_en="iPhone 16",
            price=599900,
            stock=3,
            per_user_limit=2,
        ),
    }
