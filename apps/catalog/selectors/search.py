"""Search and listings: filters, capped counts, facets, relevance, suggestions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from apps.catalog import search
from apps.catalog.models import Category, Kind, Product
from apps.catalog.selectors.common import _CARD_FIELDS, CategoryNode, ProductCard, _card, on_shelf

PAGE_SIZE = 20
RESULT_POOL = 5000
MAX_PAGE = 500
TRIGRAM_THRESHOLD = 0.3
SORTS = ("relevance", "price", "-price", "sales", "newest")


def _trigram_threshold() -> None:
    """pg_trgm's word-similarity cut-off for the %> operator, for this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [TRIGRAM_THRESHOLD])


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
