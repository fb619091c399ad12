"""Catalog reads for the mall, the API and other apps: plain data, related rows loaded up front."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.catalog import search
from apps.catalog.errors import ProductNotFound, SkuNotFound
from apps.catalog.models import Banner, Category, Kind, Product, Shelf, ShelfItem, Sku
from apps.catalog.services import CATALOG_VERSION_KEY

PAGE_SIZE = 20
RESULT_POOL = 5000
MAX_PAGE = 500
TRIGRAM_THRESHOLD = 0.3
SORTS = ("relevance", "price", "-price", "sales", "newest")


def _trigram_threshold() -> None:
    """pg_trgm's word-similarity cut-off for the %> operator, for this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [TRIGRAM_THRESHOLD])


def catalog_version() -> int:
    """Bumped on every catalog change; part of every cached page's key."""
    return int(cache.get(CATALOG_VERSION_KEY) or 1)


def on_shelf(now: datetime | None = None) -> Q:
    now = now or timezone.now()
    return (
        Q(status=Product.Status.PUBLISHED)
        & (Q(on_shelf_at__isnull=True) | Q(on_shelf_at__lte=now))
        & (Q(off_shelf_at__isnull=True) | Q(off_shelf_at__gt=now))
    )


def _scheduled(now: datetime) -> Q:
    return (
        Q(is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


@dataclass(frozen=True)
class ProductCard:
    id: int
    name: str
    name_en: str
    subtitle: str
    kind: str
    min_price_fen: int
    thumbnail_url: str
    in_stock: bool
    highlighted_name: str = ""
    subtitle_en: str = ""


_CARD_FIELDS = (
    "id",
    "name",
    "name_en",
    "subtitle",
    "subtitle_en",
    "kind",
    "min_price_fen",
    "thumbnail",
    "in_stock",
)


def _card(product: Product, query: str = "") -> ProductCard:
    return ProductCard(
        id=product.pk,
        name=product.name,
        name_en=product.name_en,
        subtitle=product.subtitle,
        kind=product.kind,
        min_price_fen=product.min_price_fen,
        thumbnail_url=product.thumbnail.url if product.thumbnail else "",
        in_stock=product.in_stock,
        highlighted_name=search.highlight(product.name, query) if query else "",
        subtitle_en=product.subtitle_en,
    )


@dataclass(frozen=True)
class CategoryNode:
    id: int
    slug: str
    name: str
    name_en: str
    kind: str
    children: list[CategoryNode] = field(default_factory=list)


def category_tree() -> list[CategoryNode]:
    """Active categories as a tree, in one query."""
    rows = list(Category.objects.filter(is_active=True).order_by("sort", "id"))
    nodes = {c.pk: CategoryNode(c.pk, c.slug, c.name, c.name_en, c.kind) for c in rows}
    roots: list[CategoryNode] = []
    for c in rows:
        if c.parent_id and c.parent_id in nodes:
            nodes[c.parent_id].children.append(nodes[c.pk])
        elif not c.parent_id:
            roots.append(nodes[c.pk])
    return roots


@dataclass(frozen=True)
class ShelfView:
    title: str
    title_en: str
    products: list[ProductCard]


@dataclass(frozen=True)
class BannerView:
    title: str
    title_en: str
    subtitle: str
    image_url: str
    link: str
    colour: str


def _shelves(placement: str, now: datetime, category_id: int | None = None) -> list[ShelfView]:
    shelves = list(
        Shelf.objects.filter(_scheduled(now), placement=placement).filter(
            Q(category_id=category_id) if category_id else Q(category__isnull=True)
        )
    )
    if not shelves:
        return []
    items = (
        ShelfItem.objects.filter(shelf__in=shelves)
        .select_related("product")
        .only("shelf_id", "sort", *(f"product__{f}" for f in _CARD_FIELDS), "product__status",
              "product__on_shelf_at", "product__off_shelf_at")
        .order_by("shelf_id", "sort", "id")
    )  # fmt: skip
    by_shelf: dict[int, list[ProductCard]] = {s.pk: [] for s in shelves}
    for item in items:
        if item.product.is_on_shelf(now):
            by_shelf[item.shelf_id].append(_card(item.product))
    return [ShelfView(s.title, s.title_en, by_shelf[s.pk]) for s in shelves if by_shelf[s.pk]]


@dataclass(frozen=True)
class HomePage:
    banners: list[BannerView]
    shelves: list[ShelfView]
    categories: list[CategoryNode]


def home_page(*, now: datetime | None = None) -> HomePage:
    """Banners, home shelves and the category entry points, as they are scheduled now."""
    now = now or timezone.now()
    banners = [
        BannerView(
            b.title, b.title_en, b.subtitle, b.image.url if b.image else "", b.link, b.colour
        )
        for b in Banner.objects.filter(_scheduled(now))
    ]
    return HomePage(
        banners=banners, shelves=_shelves(Shelf.Placement.HOME, now), categories=category_tree()
    )


# --- Search and listings ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    query: str = ""
    category: str = ""  # slug; includes the category's subtree
    kind: str = ""
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    in_stock: bool = False
    owner: str = ""  # "platform" or a content provider's user id
    sort: str = "relevance"
    page: int = 1


@dataclass(frozen=True)
class Facet:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    items: list[ProductCard]
    total: int  # at most RESULT_POOL; see total_capped
    page: int
    pages: int
    facets: dict[str, list[Facet]]
    fuzzy: bool  # no exact match; results are by trigram similarity
    category: CategoryNode | None
    total_capped: bool = False  # more than RESULT_POOL matches


def _filtered(
    base: QuerySet[Product], f: SearchFilters, category: Category | None, *, skip: str = ""
) -> QuerySet[Product]:
    qs = base
    if f.category and skip != "category":
        if category is None:
            return qs.none()
        qs = qs.filter(
            Q(category__path=category.path) | Q(category__path__startswith=f"{category.path}/")
        )
    if f.kind and skip != "kind":
        qs = qs.filter(kind=f.kind)
    if f.owner and skip != "owner":
        if f.owner == "platform":
            qs = qs.filter(owner__isnull=True)
        elif f.owner.isdigit():
            qs = qs.filter(owner_id=int(f.owner))
        else:
            return qs.none()
    if f.price_min_fen is not None:
        qs = qs.filter(min_price_fen__gte=f.price_min_fen)
    if f.price_max_fen is not None:
        qs = qs.filter(min_price_fen__lte=f.price_max_fen)
    if f.in_stock:
        qs = qs.filter(in_stock=True)
    return qs


def product_search(*, filters: SearchFilters, now: datetime | None = None) -> SearchResult:
    """Products on sale matching ``filters``, one page, with facet counts.

    Exact word matches (every word of the query, as a prefix) come first, ranked by weight
    (name over other fields) then sales; with none, names similar by trigram are returned.
    """
    f = filters
    category = (
        Category.objects.filter(slug=f.category, is_active=True).first() if f.category else None
    )
    base = Product.objects.filter(on_shelf(now))
    raw = search.tsquery(f.query) if f.query else None
    fuzzy = False
    order: list[str] = []
    if f.query and raw:
        query = SearchQuery(raw, search_type="raw", config="simple")
        matched = base.filter(search_vector=query)
        if not _filtered(matched, f, category).exists():
            fuzzy = True
            _trigram_threshold()
            # The %> operator (trigram_word_similar) can use the trigram GIN index; a
            # comparison on the computed similarity would scan every product.
            matched = base.filter(search_text__trigram_word_similar=f.query.lower()).annotate(
                similarity=TrigramWordSimilarity(f.query.lower(), "search_text")
            )
            order = ["-similarity"]
        else:
            matched = matched.annotate(rank=SearchRank(F("search_vector"), query))
            order = ["-rank"]
        base = matched
    elif f.query:
        base = base.none()
    sort_orders = {
        "price": ["min_price_fen", "id"],
        "-price": ["-min_price_fen", "id"],
        "sales": ["-sales_count", "id"],
        "newest": ["-created_at", "-id"],
    }
    ordering = sort_orders.get(f.sort) or [*order, "-sales_count", "-id"]
    results = _filtered(base, f, category)
    # Broad queries ("流量" matches a third of a large catalog) would count, facet and rank
    # every match; past RESULT_POOL matches the total is shown as "5,000+" and relevance is
    # ranked among the first RESULT_POOL matches the index yields.
    total = results.order_by().values("pk")[: RESULT_POOL + 1].count()
    capped = total > RESULT_POOL
    if capped:
        total = RESULT_POOL
        if order:
            results = results.filter(pk__in=_pool(results))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, f.page), pages, MAX_PAGE)
    rows = results.order_by(*ordering).only(*_CARD_FIELDS)[
        (page - 1) * PAGE_SIZE : page * PAGE_SIZE
    ]
    return SearchResult(
        items=[_card(p, f.query) for p in rows],
        total=total,
        total_capped=capped,
        page=page,
        pages=pages,
        facets=_facets(base, f, category),
        fuzzy=fuzzy,
        category=CategoryNode(
            category.pk, category.slug, category.name, category.name_en, category.kind
        )
        if category
        else None,
    )


def _pool(qs: QuerySet[Product]) -> Any:
    """At most RESULT_POOL of ``qs``'s ids, as a subquery (the first the index yields)."""
    return qs.order_by().values("pk")[:RESULT_POOL]


def _facets(
    base: QuerySet[Product], f: SearchFilters, category: Category | None
) -> dict[str, list[Facet]]:
    """Counts per category, kind and owner; each ignores its own filter so choices stay visible.

    Counted over at most RESULT_POOL matches each, so a broad query stays cheap (its counts are
    then those of a sample, like its total).
    """
    categories = (
        Product.objects.filter(pk__in=_pool(_filtered(base, f, category, skip="category")))
        .values("category__slug", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:20]
    )
    kinds = (
        Product.objects.filter(pk__in=_pool(_filtered(base, f, category, skip="kind")))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    owners = (
        Product.objects.filter(pk__in=_pool(_filtered(base, f, category, skip="owner")))
        .annotate(is_platform=Q(owner__isnull=True))
        .values("is_platform")
        .annotate(n=Count("id"))
    )
    labels = dict(Kind.choices)
    return {
        "category": [Facet(r["category__slug"], r["category__name"], r["n"]) for r in categories],
        "kind": [Facet(r["kind"], str(labels.get(r["kind"], r["kind"])), r["n"]) for r in kinds],
        "owner": [
            Facet("platform" if r["is_platform"] else "providers", "", r["n"]) for r in owners
        ],
    }


def suggest(*, prefix: str, limit: int = 8) -> list[str]:
    """Product names for the search box as the user types: prefix first, then similar."""
    text = (prefix or "").strip().lower()[:40]
    if not text:
        return []
    visible = Product.objects.filter(on_shelf())
    names = list(
        visible.filter(search_text__startswith=text)
        .order_by("-sales_count")
        .values_list("name", flat=True)[:limit]
    )
    if len(names) < limit:
        names += [
            n
            for n in visible.filter(search_text__contains=text)
            .order_by("-sales_count")
            .values_list("name", flat=True)[: limit * 2]
            if n not in names
        ][: limit - len(names)]
    return names


# --- Product detail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuView:
    id: int
    code: str
    name: str
    price_fen: int
    list_price_fen: int
    attributes: dict[str, object]
    stock_available: int | None  # None: not stock-tracked
    low_stock: bool


@dataclass(frozen=True)
class ProductDetail:
    id: int
    name: str
    name_en: str
    subtitle: str
    description: str
    kind: str
    type_code: str
    type_name: str
    needs_recipient_number: bool
    attributes: list[tuple[str, str]]
    image_url: str
    category: CategoryNode
    parent_category: CategoryNode | None
    skus: list[SkuView]
    per_user_limit: int | None
    owner_id: int | None
    min_price_fen: int
    subtitle_en: str = ""


def _attribute_text(item: dict[str, Any], value: object) -> str:
    """An attribute as buyers read it: a choice's label (``recharge`` → 话费卡) and the unit."""
    labels = item.get("choice_labels") or {}
    return f"{labels.get(value, value)}{item.get('unit', '')}"


def product_detail(*, product_id: int, now: datetime | None = None) -> ProductDetail:
    """A product on sale with its active SKUs (three queries). Raises ``ProductNotFound``."""
    product = (
        Product.objects.filter(on_shelf(now), pk=product_id)
        .select_related("category", "category__parent", "product_type")
        .first()
    )
    if product is None:
        raise ProductNotFound()
    skus = list(Sku.objects.filter(product_id=product_id, is_active=True))
    schema = {item["key"]: item for item in product.product_type.attribute_schema}
    attributes = [
        (str(schema.get(k, {}).get("label", k)), _attribute_text(schema.get(k, {}), v))
        for k, v in product.attributes.items()
    ]
    c, parent = product.category, product.category.parent
    return ProductDetail(
        id=product.pk,
        name=product.name,
        name_en=product.name_en,
        subtitle=product.subtitle,
        description=product.description,
        kind=product.kind,
        type_code=product.product_type.code,
        type_name=product.product_type.name,
        needs_recipient_number=product.product_type.needs_recipient_number,
        attributes=attributes,
        image_url=product.image.url if product.image else "",
        category=CategoryNode(c.pk, c.slug, c.name, c.name_en, c.kind),
        parent_category=CategoryNode(
            parent.pk, parent.slug, parent.name, parent.name_en, parent.kind
        )
        if parent
        else None,
        skus=[
            SkuView(
                id=s.pk,
                code=s.code,
                name=s.name,
                price_fen=s.price_fen,
                list_price_fen=s.list_price_fen,
                attributes=s.attributes,
                stock_available=s.stock_available if s.tracks_stock else None,
                low_stock=s.is_low_stock,
            )
            for s in skus
        ],
        per_user_limit=product.per_user_limit,
        owner_id=product.owner_id,
        min_price_fen=product.min_price_fen,
        subtitle_en=product.subtitle_en,
    )


@dataclass(frozen=True)
class SkuForSale:
    """What the cart and checkout need to know about a SKU."""

    sku_id: int
    product_id: int
    product_name: str
    sku_name: str
    price_fen: int
    kind: str
    needs_recipient_number: bool
    per_user_limit: int | None
    stock_available: int | None
    thumbnail_url: str
    # The product type's code: SIM cards ("sim") need a number chosen from the pool.
    type_code: str = ""


def skus_for_sale(*, sku_ids: list[int], now: datetime | None = None) -> dict[int, SkuForSale]:
    """SKUs on sale now, by id (one query); missing ids are not on sale."""
    rows = Sku.objects.filter(pk__in=sku_ids, is_active=True).select_related(
        "product", "product__product_type"
    )
    result: dict[int, SkuForSale] = {}
    for s in rows:
        if not s.product.is_on_shelf(now):
            continue
        result[s.pk] = SkuForSale(
            sku_id=s.pk,
            product_id=s.product_id,
            product_name=s.product.name,
            sku_name=s.name,
            price_fen=s.price_fen,
            kind=s.product.kind,
            needs_recipient_number=s.product.product_type.needs_recipient_number,
            per_user_limit=s.product.per_user_limit,
            stock_available=s.stock_available if s.tracks_stock else None,
            thumbnail_url=s.product.thumbnail.url if s.product.thumbnail else "",
            type_code=s.product.product_type.code,
        )
    return result


def sku_for_sale(*, sku_id: int) -> SkuForSale:
    found = skus_for_sale(sku_ids=[sku_id]).get(sku_id)
    if found is None:
        raise SkuNotFound()
    return found


@dataclass(frozen=True)
class DeliverySpec:
    """What fulfilment needs to know about a product: its type and typed attributes."""

    product_id: int
    type_code: str
    attributes: dict[str, object]


def delivery_specs(*, product_ids: list[int]) -> dict[int, DeliverySpec]:
    """By product id, on sale or not (an order may outlive the product's shelf time)."""
    rows = (
        Product.objects.filter(pk__in=product_ids)
        .select_related("product_type")
        .only("id", "attributes", "product_type__code")
    )
    return {p.pk: DeliverySpec(p.pk, p.product_type.code, p.attributes) for p in rows}


def sku_delivery_spec(*, sku_id: int) -> DeliverySpec | None:
    """The delivery spec of a SKU's product, on sale or not; None for an unknown SKU."""
    sku = Sku.objects.select_related("product__product_type").filter(pk=sku_id).first()
    if sku is None:
        return None
    product = sku.product
    return DeliverySpec(product.pk, product.product_type.code, product.attributes)


@dataclass(frozen=True)
class DataPackSpec:
    """A data-pack SKU as bulk distribution needs it: what to provision and its price."""

    code: str
    name: str
    price_fen: int
    volume: str  # as the product states it: "1GB", "500MB"
    validity_days: int


def data_packs_by_code(*, codes: list[str]) -> dict[str, DataPackSpec]:
    """Active data-pack SKUs by SKU code (one query); unknown or inactive codes are missing."""
    rows = Sku.objects.filter(
        code__in=codes, is_active=True, product__product_type__code="data_pack"
    ).select_related("product")
    return {
        s.code: DataPackSpec(
            code=s.code,
            name=f"{s.product.name} {s.name}".strip(),
            price_fen=s.price_fen,
            volume=str(s.product.attributes.get("volume", "")),
            validity_days=int(s.product.attributes.get("validity_days", 0) or 0),
        )
        for s in rows
    }


# --- The recharge box -------------------------------------------------------------------------

RECHARGE_FACE_VALUES = (10, 20, 30, 50, 100, 200, 300, 500)
RECHARGE_TABS = ("airtime", "data")


@dataclass(frozen=True)
class RechargeOffer:
    """One square of the recharge grid: what it gives, and what it costs after any discount."""

    sku_id: int
    label: str  # "100元", "10GB"
    note: str  # "30天 全国", or "" for airtime
    price_fen: int
    list_price_fen: int


_RECHARGE_TYPES = {"airtime": "airtime", "data_pack": "data"}


def _recharge_grids(now: datetime | None = None) -> dict[str, list[RechargeOffer]]:
    """Both grids of the recharge box in one query: per face value the cheapest airtime SKU
    on sale, per volume the cheapest national 30-day data pack. Ties go to the oldest
    product, so the national product wins over a provincial one at the same price
    (fulfilment routes every recharge to the number's home province anyway).
    """
    rows = (
        Sku.objects.filter(
            is_active=True,
            product__product_type__code__in=_RECHARGE_TYPES,
            product__in=Product.objects.filter(on_shelf(now)),
        )
        .select_related("product__product_type")
        .order_by("price_fen", "product_id", "id")
    )
    best: dict[str, dict[str, tuple[int, RechargeOffer]]] = {"airtime": {}, "data": {}}
    for sku in rows:
        tab, attrs = _RECHARGE_TYPES[sku.product.product_type.code], sku.product.attributes
        if tab == "airtime":
            value = attrs.get("face_value")
            if value not in RECHARGE_FACE_VALUES:
                continue
            key, note, rank = f"{value}元", "", int(value)
        else:
            if attrs.get("scope") != "全国" or attrs.get("validity_days") != 30:
                continue
            key, note, rank = str(attrs.get("volume", sku.name)), "30天 全国", sku.price_fen
        if key not in best[tab]:
            offer = RechargeOffer(sku.pk, key, note, sku.price_fen, sku.list_price_fen)
            best[tab][key] = (rank, offer)
    return {
        tab: [offer for _rank, offer in sorted(found.values(), key=lambda pair: pair[0])]
        for tab, found in best.items()
    }


def recharge_offers(*, tab: str, now: datetime | None = None) -> list[RechargeOffer]:
    """One grid of the recharge box ("airtime" or "data")."""
    return _recharge_grids(now)[tab if tab in RECHARGE_TABS else "airtime"]


@dataclass(frozen=True)
class RechargeBox:
    """The recharge box as everyone sees it (no personal data: cached pages carry it)."""

    tab: str
    airtime: list[RechargeOffer]
    data: list[RechargeOffer]
    # The square chosen in each grid: the one asked for, else 100元 and the 10GB pack, the
    # most bought, so that 立即充值 alone is one tap.
    airtime_pick: int
    data_pick: int


def _pick(offers: list[RechargeOffer], selected: int, usual: str) -> int:
    ids = [o.sku_id for o in offers]
    if selected in ids:
        return selected
    usual_ids = [o.sku_id for o in offers if o.label == usual]
    return (usual_ids or ids or [0])[0]


def recharge_box(*, tab: str = "airtime", selected_sku: int = 0) -> RechargeBox:
    grids = _recharge_grids()
    airtime, data = grids["airtime"], grids["data"]
    return RechargeBox(
        tab=tab if tab in RECHARGE_TABS else "airtime",
        airtime=airtime,
        data=data,
        airtime_pick=_pick(airtime, selected_sku, "100元"),
        data_pick=_pick(data, selected_sku, "10GB"),
    )


def affordable_with_points(*, points: int, limit: int = 8) -> list[ProductCard]:
    """Best-selling products on sale whose lowest price the points pay in full (1 point = 1
    fen), dearest first: what the points page suggests."""
    if points <= 0:
        return []
    rows = (
        Product.objects.filter(
            on_shelf(), in_stock=True, min_price_fen__gt=0, min_price_fen__lte=points
        )
        .only(*_CARD_FIELDS)
        .order_by("-min_price_fen", "-sales_count", "id")[:limit]
    )
    return [_card(p) for p in rows]
