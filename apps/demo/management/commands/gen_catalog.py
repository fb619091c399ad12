"""``manage.py gen_catalog --products N``: bulk-generate a large catalog for benchmarks (COPY)."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog import search
from apps.catalog.models import Category, Product, ProductType, Sku
from apps.catalog.services import catalog_changed
from apps.demo.catalog_seed import seed_catalog

PREFIXES = [
    "畅享",
    "超值",
    "尊享",
    "青春",
    "家庭",
    "5G",
    "极速",
    "限时",
    "新春",
    "校园",
    "商务",
    "精选",
]
PREFIXES_EN = [
    "Enjoy",
    "Value",
    "Premium",
    "Youth",
    "Family",
    "5G",
    "Turbo",
    "Limited",
    "Spring",
    "Campus",
    "Business",
    "Select",
]
WORDS = {
    "airtime": (["话费充值", "话费直充", "话费快充"], ["airtime", "top-up", "recharge"]),
    "data": (["流量包", "通用流量", "定向流量", "夜间流量"], ["data pack", "data", "night data"]),
    "plans": (["套餐", "畅聊套餐", "融合套餐"], ["plan", "talk plan", "bundle"]),
    "addons": (["加油包", "语音包", "彩铃"], ["booster", "voice pack", "ringtone"]),
    "points": (["积分", "积分兑换"], ["points", "points exchange"]),
    "game": (
        ["游戏礼包", "钻石", "月卡", "通行证"],
        ["game pack", "diamonds", "monthly card", "pass"],
    ),
    "video": (["视频会员", "影视VIP", "体育直播"], ["video VIP", "movie VIP", "sports live"]),
    "reading": (["电子书", "畅读卡", "有声书"], ["e-book", "reading card", "audiobook"]),
    "music": (["音乐会员", "数字专辑", "彩铃"], ["music VIP", "digital album", "ringback"]),
    "animation": (["动漫会员", "漫画", "动画"], ["anime VIP", "comic", "animation"]),
    "cards": (["充值卡", "积分卡"], ["recharge card", "points card"]),
    "phones": (["手机", "5G手机", "智能手机"], ["phone", "5G phone", "smartphone"]),
    "sim": (["号卡", "流量卡", "靓号"], ["SIM", "data SIM", "lucky number"]),
    "merch": (
        ["充电宝", "耳机", "保温杯", "手机壳"],
        ["power bank", "earbuds", "thermos", "phone case"],
    ),
}
PRODUCT_COLUMNS = [
    "id", "category_id", "product_type_id", "kind", "name", "name_en", "subtitle", "description",
    "status", "attributes", "image", "thumbnail", "min_price_fen", "in_stock", "sales_count",
    "search_terms_a", "search_terms_b", "search_text", "created_at", "updated_at",
]  # fmt: skip
SKU_COLUMNS = [
    "product_id", "code", "name", "attributes", "price_fen", "list_price_fen", "tracks_stock",
    "stock_on_hand", "stock_reserved", "low_stock_threshold", "is_active", "sort",
]  # fmt: skip
# The two GIN indexes are rebuilt once after a large load instead of row by row.
REBUILD_INDEXES_FROM = 100_000
GIN_INDEXES = {
    "catalog_product_search_gin": "CREATE INDEX catalog_product_search_gin ON catalog_product USING gin (search_vector)",
    "catalog_product_trgm_gin": "CREATE INDEX catalog_product_trgm_gin ON catalog_product USING gin (search_text gin_trgm_ops)",
}


class Command(BaseCommand):
    help = "Generate N published products with one SKU each, fast (COPY), for benchmarks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--products", type=int, required=True)
        parser.add_argument("--batch", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, products: int, batch: int, seed: int, **options: Any) -> None:
        if not 1 <= products <= 50_000_000:
            raise CommandError("--products must be between 1 and 50,000,000")
        if batch < 1:
            raise CommandError("--batch must be positive")
        seed_catalog()  # categories and product types
        rng = random.Random(seed)  # noqa: S311 - repeatable test data, not secrets
        leaves = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
        types = {t.code: t for t in ProductType.objects.all()}
        type_for = {"airtime": "airtime", "data": "data_pack", "plans": "plan", "addons": "addon", "points": "points",
                    "cards": "recharge_card", "phones": "phone", "sim": "sim", "merch": "merchandise"}  # fmt: skip
        started = time.monotonic()
        rebuild = products >= REBUILD_INDEXES_FROM
        with transaction.atomic():
            if rebuild:
                with connection.cursor() as cursor:
                    for name in GIN_INDEXES:
                        cursor.execute(f"DROP INDEX IF EXISTS {name}")
            first_id = self._reserve_ids(products)
            done = 0
            while done < products:
                size = min(batch, products - done)
                self._copy_batch(rng, first_id + done, size, leaves, types, type_for)
                done += size
                self.stdout.write(f"{done:,} / {products:,} ({time.monotonic() - started:.0f} s)")
            if rebuild:
                self.stdout.write("rebuilding search indexes")
                with connection.cursor() as cursor:
                    # Django's foreign keys are deferred: check the loaded rows now, since
                    # PostgreSQL will not build an index with trigger events pending.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    for sql in GIN_INDEXES.values():
                        cursor.execute(sql)
                    cursor.execute("ANALYZE catalog_product")
                    cursor.execute("ANALYZE catalog_sku")
            catalog_changed()
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {products:,} products in {time.monotonic() - started:.0f} s"
            )
        )

    def _reserve_ids(self, count: int) -> int:
        """Take a block of ``count`` ids from the product sequence, safe beside other writers."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence('catalog_product', 'id')")
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [sequence])
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = int(cursor.fetchone()[0])
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
        return first

    def _copy_batch(self, rng: random.Random, first_id: int, size: int, leaves: list[Category],
                    types: dict[str, ProductType], type_for: dict[str, str]) -> None:  # fmt: skip
        now = timezone.now()
        products: list[tuple[Any, ...]] = []
        skus: list[tuple[Any, ...]] = []
        for offset in range(size):
            pid = first_id + offset
            cat = leaves[pid % len(leaves)]
            ptype = types[type_for.get(cat.slug, cat.slug)]
            words, words_en = WORDS[cat.slug]
            i = rng.randrange(len(PREFIXES))
            w = rng.randrange(len(words))
            spec = rng.choice(
                [
                    "",
                    f" {rng.choice([1, 2, 5, 10, 20, 30, 50, 100])}GB",
                    f" {rng.choice([10, 30, 50, 100, 200])}元",
                    f" {rng.randrange(1, 999)}号",
                ]
            )
            name = f"{PREFIXES[i]}{words[w]}{spec} {pid}"
            name_en = f"{PREFIXES_EN[i]} {words_en[w % len(words_en)]}{spec.replace('元', ' yuan').replace('号', '')} {pid}"
            subtitle = f"{cat.parent.name if cat.parent else ''} {cat.name}"
            price = (
                rng.randrange(100, 500_000) if cat.slug == "phones" else rng.randrange(100, 30_000)
            )
            sales = int(rng.paretovariate(1.2)) % 100_000
            products.append((
                pid, cat.pk, ptype.pk, ptype.kind, name, name_en, subtitle, "", Product.Status.PUBLISHED, "{}",
                "", "", price, True, sales, search.terms(name, name_en), search.terms(subtitle),
                f"{name} {name_en}".lower(), now, now,
            ))  # fmt: skip
            physical = ptype.kind == "physical"
            skus.append((pid, f"GEN-{pid}", "标准", json.dumps({}), price, price, physical,
                         rng.randrange(0, 500) if physical else 0, 0, 5, True, 0))  # fmt: skip
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(
                f"COPY {Product._meta.db_table} ({', '.join(PRODUCT_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in products:
                    copy.write_row(row)
            with raw.copy(
                f"COPY {Sku._meta.db_table} ({', '.join(SKU_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in skus:
                    copy.write_row(row)
