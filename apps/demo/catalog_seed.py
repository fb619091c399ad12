"""Seed the demo catalog: every category, about 220 products, shelves, banners and pages.

Idempotent: a product is keyed by its first SKU code, everything else by slug or code.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import (
    Banner,
    Category,
    PortalPage,
    Product,
    ProductType,
    Shelf,
    ShelfItem,
    Sku,
)
from apps.catalog.services import SkuSpec
from apps.core.money import to_fen
from apps.demo import artwork
from apps.demo import catalog_data as data


def _categories() -> dict[str, int]:
    ids: dict[str, int] = {}
    for sort, (slug, name, name_en, kind, parent) in enumerate(data.CATEGORIES):
        existing = Category.objects.filter(slug=slug).first()
        if existing is None:
            existing = services.category_create(
                slug=slug,
                name=name,
                name_en=name_en,
                kind=kind,
                parent_id=ids.get(parent or ""),
                sort=sort,
            )
        ids[slug] = existing.pk
    return ids


def _in_english(item: dict[str, object]) -> dict[str, object]:
    """A schema item with its English label, unit and value words for English mode."""
    english: dict[str, object] = {"label_en": data.ATTRIBUTE_LABELS_EN.get(str(item["label"]), "")}
    if "unit" in item:
        english["unit_en"] = data.ATTRIBUTE_UNITS_EN.get(str(item["unit"]), "")
    english["choice_labels_en"] = data.ATTRIBUTE_VALUES_EN
    return {**item, **english}


def _types() -> dict[str, int]:
    ids = {}
    for code, name, kind, needs_number, items in data.PRODUCT_TYPES:
        schema = [_in_english(item) for item in items]
        product_type, _ = ProductType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "needs_recipient_number": needs_number,
                "attribute_schema": schema,
            },
        )
        ids[code] = product_type.pk
    return ids


class _Seeder:
    def __init__(self) -> None:
        self.categories = _categories()
        self.types = _types()
        self.created = 0
        self.sales = 0

    def add(
        self, category: str, type_code: str, name: str, skus: list[SkuSpec], **extra: object
    ) -> None:
        if Sku.objects.filter(code=skus[0].code).exists():
            return
        # A spread of sales counts so that "best selling" has an order.
        self.sales = (self.sales * 7919 + 104729) % 5000
        services.product_create(
            category_id=self.categories[category],
            product_type_id=self.types[type_code],
            name=name,
            skus=skus,
            sales_count=self.sales,
            **extra,  # type: ignore[arg-type]
        )
        self.created += 1


def _electronic(s: _Seeder) -> None:
    for region, region_en, code in data.REGIONS:
        for value in data.AIRTIME_VALUES:
            face_fen = to_fen(value)
            price = face_fen - (value // 100) * 20  # 100 yuan for 99.80
            s.add("airtime", "airtime", f"{region}移动话费充值 {value}元", [SkuSpec(f"AIR-{code}-{value}", f"{value}元", price, face_fen)],
                  name_en=f"{region_en} China Mobile airtime {value} yuan", subtitle="快充，一般10分钟内到账",
                  attributes={"face_value": value}, per_user_limit=5)  # fmt: skip
    for scope, scope_en in (("全国通用", "National"), ("省内", "Provincial")):
        for days in (7, 30):
            for volume in data.DATA_VOLUMES:
                # A week costs 60% of a month; a provincial pack half a national one.
                price = (
                    data.DATA_PRICES[volume]
                    * (10 if days == 30 else 6)
                    // (10 if scope == "全国通用" else 20)
                )
                s.add("data", "data_pack", f"{scope}流量包 {volume} {days}天", [SkuSpec(f"DATA-{scope_en[:3]}-{volume}-{days}", f"{volume}/{days}天", price)],
                      name_en=f"{scope_en} data pack {volume} {days} days", subtitle=f"{scope}可用，即时生效",
                      attributes={"volume": volume, "validity_days": days, "scope": "全国" if scope == "全国通用" else "省内"})  # fmt: skip
    for index, (name, name_en, fee, volume, minutes, offer) in enumerate(data.PLANS):
        s.add("plans", "plan", name, [SkuSpec(f"PLAN-{index + 1}", f"{fee}元/月", fee * 100)], name_en=name_en,
              subtitle=f"含{volume}通用流量、{minutes}分钟通话，次月生效",
              attributes={"monthly_fee": fee, "data": volume, "minutes": minutes, "offer_code": offer})  # fmt: skip
    for index, (name, name_en, price, days, offer) in enumerate(data.ADDONS):
        s.add(
            "addons",
            "addon",
            name,
            [SkuSpec(f"ADDON-{index + 1}", "订购", price)],
            name_en=name_en,
            attributes={"validity_days": days, "offer_code": offer},
        )
    for points in data.POINTS:
        s.add("points", "points", f"移动积分 {points}分", [SkuSpec(f"POINTS-{points}", f"{points}分", points)],
              name_en=f"China Mobile points {points}", subtitle="积分可兑换话费和礼品", attributes={"points": points})  # fmt: skip


def _digital(s: _Seeder) -> None:
    for category, items in data.CONTENT.items():
        for index, (name, name_en, subtitle, billing, price) in enumerate(items):
            s.add(category, category, name, [SkuSpec(f"{category.upper()}-{index + 1}", billing, price)],
                  name_en=name_en, subtitle=subtitle, attributes={"billing": billing},
                  description=f"<p>{subtitle}。购买后在“我的内容”中即可使用。</p>")  # fmt: skip


def _physical(s: _Seeder) -> None:
    for value in data.RECHARGE_CARDS:
        s.add("cards", "recharge_card", f"移动充值卡 {value}元", [SkuSpec(f"CARD-{value}", f"{value}元", value * 100, stock=200)],
              name_en=f"China Mobile recharge card {value} yuan", subtitle="实体卡，快递配送", attributes={"face_value": value})  # fmt: skip
    for index, (name, name_en, brand, network, colours, storages) in enumerate(data.PHONES):
        skus = [
            SkuSpec(f"PHONE-{index + 1}-{c}-{st}", f"{c} {st}", price, price + 30000, {"colour": c, "storage": st}, stock=3 + (i * 7) % 40)
            for i, (c, (st, price)) in enumerate((c, st) for c in colours for st in storages)
        ]  # fmt: skip
        s.add("phones", "phone", name, skus, name_en=name_en, subtitle=f"{brand} {network} 全网通，合约购机更优惠",
              attributes={"brand": brand, "network": network}, per_user_limit=2,
              description=f"<p>{name}，官方正品，全国联保。</p><ul><li>顺丰包邮</li><li>7天无理由退货</li></ul>")  # fmt: skip
    for index, (name, name_en, card_type, price) in enumerate(data.SIMS):
        s.add("sim", "sim", name, [SkuSpec(f"SIM-{index + 1}", card_type, price, stock=500)], name_en=name_en,
              subtitle="需实名登记，激活后生效", attributes={"card_type": card_type}, per_user_limit=1)  # fmt: skip
    for index, (name, name_en, price) in enumerate(data.MERCH):
        s.add("merch", "merchandise", name, [SkuSpec(f"MERCH-{index + 1}", "标准款", price, price + 1000, stock=100 if index % 4 else 4)],
              name_en=name_en, subtitle="中国移动官方周边")  # fmt: skip


def _shelves() -> None:
    if Shelf.objects.exists():
        return
    picks = [
        ("热门流量包", "Popular data packs", "data"),
        ("话费充值", "Airtime", "airtime"),
        ("新机上市", "New phones", "phones"),
        ("精选内容", "Featured content", "video"),
    ]
    for sort, (title, title_en, slug) in enumerate(picks):
        shelf = Shelf.objects.create(
            title=title, title_en=title_en, placement=Shelf.Placement.HOME, sort=sort
        )
        products = Product.objects.filter(category__slug=slug).order_by("-sales_count")[:8]
        ShelfItem.objects.bulk_create(
            ShelfItem(shelf=shelf, product=p, sort=i) for i, p in enumerate(products)
        )
    now = timezone.now()
    Banner.objects.bulk_create([
        Banner(title="5G流量狂欢节", title_en="5G data festival", subtitle="流量包低至5折", link="/c/data/", colour="#0071c5", sort=0),
        Banner(title="新机首发 以旧换新", title_en="New phones, trade in your old one", subtitle="至高补贴800元", link="/c/phones/", colour="#00897b", sort=1),
        Banner(title="视频会员 首月1元", title_en="Video VIP: first month 1 yuan", subtitle="限时活动", link="/c/video/", colour="#8e24aa", sort=2,
               starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)),
    ])  # fmt: skip
    PortalPage.objects.get_or_create(
        slug="help", defaults={"title": "帮助中心", "is_published": True,
                               "body": "<h3>充值多久到账？</h3><p>话费和流量一般10分钟内到账。</p><h3>如何退款？</h3><p>在订单详情中申请退款。</p>"},
    )  # fmt: skip


@transaction.atomic
def _offer_codes() -> None:
    """Give plans and add-ons seeded before they carried the carrier's offer code their code."""
    wanted = {f"PLAN-{i + 1}": plan[-1] for i, plan in enumerate(data.PLANS)}
    wanted |= {f"ADDON-{i + 1}": addon[-1] for i, addon in enumerate(data.ADDONS)}
    for sku in Sku.objects.filter(code__in=wanted).select_related("product"):
        product = sku.product
        if product.attributes.get("offer_code") != wanted[sku.code]:
            attributes = {**product.attributes, "offer_code": wanted[sku.code]}
            type(product).objects.filter(pk=product.pk).update(attributes=attributes)


def _artwork() -> int:
    """Draw a picture for every product and banner that has none; returns how many."""
    drawn = 0
    products = Product.objects.filter(image="").select_related("product_type", "category")
    for product in products.order_by("id"):
        spec = artwork.spec_for(
            type_code=product.product_type.code, name=product.name,
            attributes=product.attributes, category=product.category.slug,
        )  # fmt: skip
        services.product_image_set(
            product_id=product.pk, name=f"art-{product.pk}.svg",
            content=artwork.product_svg(spec).encode(),
        )  # fmt: skip
        drawn += 1
    for banner in Banner.objects.filter(image="").order_by("id"):
        svg = artwork.banner_svg(title=banner.title, subtitle=banner.subtitle, colour=banner.colour)
        services.banner_image_set(
            banner_id=banner.pk, name=f"banner-{banner.pk}.svg", content=svg.encode()
        )
        drawn += 1
    return drawn


def _english_subtitles() -> int:
    """Fill the English subtitle of demo products that have none; returns how many."""
    filled = 0
    for zh, en in (data.SUBTITLES_EN | data.CONTENT_SUBTITLES_EN).items():
        filled += Product.objects.filter(subtitle=zh, subtitle_en="").update(subtitle_en=en)
    for product in Product.objects.filter(subtitle_en="", product_type__code__in=("plan", "phone")):
        attrs = product.attributes
        if product.subtitle == data.PLAN_SUBTITLE.format(
            data=attrs.get("data"), minutes=attrs.get("minutes")
        ):
            english = data.PLAN_SUBTITLE_EN.format(
                data=attrs.get("data"), minutes=attrs.get("minutes")
            )
        elif "brand" in attrs:
            brand = {"华为": "Huawei", "小米": "Xiaomi", "荣耀": "Honor", "一加": "OnePlus",
                     "中国移动": "China Mobile"}.get(attrs["brand"], attrs["brand"])  # fmt: skip
            english = data.PHONE_SUBTITLE_EN.format(brand=brand, network=attrs.get("network", ""))
        else:
            continue
        filled += Product.objects.filter(pk=product.pk).update(subtitle_en=english)
    return filled


def _sku_name_en(name: str) -> str:
    """A demo SKU's English name: a known word, a colour and storage, or a number and unit."""
    if name in data.SKU_NAMES_EN:
        return data.SKU_NAMES_EN[name]
    words = name.split(" ")
    if all(w in data.COLOURS_EN or w.endswith(("GB", "MB")) for w in words):
        return " ".join(data.COLOURS_EN.get(w, w) for w in words)
    english = name
    for zh, en in data.SKU_UNITS_EN:
        english = english.replace(zh, en)
    return english if english != name else ""


def english_variants() -> int:
    """Fill the English name of demo SKUs that have none; returns how many."""
    filled = 0
    for sku in Sku.objects.filter(name_en="").only("pk", "name"):
        english = _sku_name_en(sku.name)
        if english:
            filled += Sku.objects.filter(pk=sku.pk).update(name_en=english)
    return filled


def seed_catalog() -> int:
    """Create what is missing of the demo catalog; returns how many products were created."""
    seeder = _Seeder()
    _electronic(seeder)
    _offer_codes()
    _digital(seeder)
    _physical(seeder)
    _shelves()
    _english_subtitles()
    english_variants()
    _artwork()
    services.catalog_changed()
    return seeder.created
