"""Search and listings: one capped pool of matches per search, ranked and faceted in Python.

A search matches the index once: it reads the small columns (id, category, kind, owner,
sales, price, rank) of at most ``RESULT_POOL + 1`` matches in the order the index yields them,
without sorting every match, then ranks that pool (category match first, then text rank,
then sales), counts its facets and pages it in Python, and reads the cards of one page by id.
Past ``RESULT_POOL`` matches the total reads "5,000+", relevance is ranked within the pool,
and facets are counted over it (``facets_sampled``). Trigram similarity is tried only when the
words match nothing. A listing without words pages in index order (category and sales).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Count, F, QuerySet
from django.utils import translation

from apps.catalog import search
from apps.catalog.models import Category, Kind, Product
from apps.catalog.selectors.common import (
    _CARD_FIELDS,
    CategoryNode,
    ProductCard,
    _card,
    catalog_version,
    on_shelf,
)

PAGE_SIZE = 20
RESULT_POOL = 5000
MAX_PAGE = 500
TRIGRAM_THRESHOLD = 0.3
SORTS = ("relevance", "price", "-price", "sales", "newest")
# Columns of a pool row, in this order.
_POOL_FIELDS = ("id", "category_id", "kind", "owner_id", "sales_count", "min_price_fen")
# Then the rank, and the creation time only when sorting by it (parsing 5,000 timestamps was
# the largest part of a broad search's Python time).
_ID, _CATEGORY, _KIND, _OWNER, _SALES, _PRICE, _RANK, _CREATED = range(8)


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
    label_en: str = ""  # English mode's label (the same when there is no English)


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
    facets_sampled: bool = False  # facets counted over the first RESULT_POOL matches only


def normalised_query(query: str) -> str:
    """The query as the result cache keys it: width-folded, lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", query).lower().split())


def result_cache_key(filters: SearchFilters) -> str:
    """The key of a search's cached answer: the catalog version and the normalised filters."""
    f = filters
    parts = (catalog_version(), normalised_query(f.query), f.category, f.kind, f.price_min_fen,
             f.price_max_fen, f.in_stock, f.owner, f.sort, f.page, PAGE_SIZE, RESULT_POOL)  # fmt: skip
    return "search:" + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class _Categories:
    """Every category (one query), with what a search needs of it."""

    by_id: dict[int, Category]
    by_slug: dict[str, Category]

    @classmethod
    def load(cls) -> _Categories:
        rows = list(Category.objects.all())
        return cls({c.pk: c for c in rows}, {c.slug: c for c in rows if c.is_active})

    def subtree(self, category: Category) -> set[int]:
        prefix = category.path + "/"
        return {c.pk for c in self.by_id.values() if c.path == category.path
                or c.path.startswith(prefix)}  # fmt: skip

    def matching(self, words: Iterable[str]) -> set[int]:
        """Categories a query names (流量 → 流量包, 话费 → 话费充值): their products rank first."""
        wanted = set(words)
        return {
            c.pk
            for c in self.by_id.values()
            if wanted & {c.slug, *search.segment(c.name), *search.segment(c.name_en)}
        }


def _plain(qs: QuerySet[Product], f: SearchFilters) -> QuerySet[Product]:
    """The filters that are not facets: price and stock."""
    if f.price_min_fen is not None:
        qs = qs.filter(min_price_fen__gte=f.price_min_fen)
    if f.price_max_fen is not None:
        qs = qs.filter(min_price_fen__lte=f.price_max_fen)
    if f.in_stock:
        qs = qs.filter(in_stock=True)
    return qs


def _owner_id(f: SearchFilters) -> int | bool | None:
    """None: the platform; an id: that provider; True: no filter; False: matches nothing."""
    if not f.owner:
        return True
    if f.owner == "platform":
        return None
    return int(f.owner) if f.owner.isdigit() else False


def _faceted(
    qs: QuerySet[Product], f: SearchFilters, subtree: set[int] | None
) -> QuerySet[Product]:
    """The facet filters (category subtree, kind, owner) in SQL."""
    if subtree is not None:
        qs = qs.filter(category_id__in=subtree)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    owner = _owner_id(f)
    if owner is False:
        return qs.none()
    if owner is None:
        qs = qs.filter(owner__isnull=True)
    elif owner is not True:
        qs = qs.filter(owner_id=owner)
    return qs


def _keep(
    row: tuple[Any, ...], f: SearchFilters, subtree: set[int] | None, *, skip: str = ""
) -> bool:
    """The facet filters in Python, over a pool row; ``skip`` one to count its facet."""
    if skip != "category" and subtree is not None and row[_CATEGORY] not in subtree:
        return False
    if skip != "kind" and f.kind and row[_KIND] != f.kind:
        return False
    if skip != "owner":
        owner = _owner_id(f)
        if owner is False or (owner is not True and row[_OWNER] != owner):
            return False
    return True


def _facets(
    rows: list[tuple[Any, ...]], f: SearchFilters, subtree: set[int] | None, cats: _Categories,
    *, counted: bool = False,
) -> dict[str, list[Facet]]:  # fmt: skip
    """Counts per category, kind and owner; each ignores its own filter so choices stay visible.

    ``rows`` are pool rows, or with ``counted`` rows already grouped by category, kind and
    owner whose first column is their number.
    """
    by_category: Counter[int] = Counter()
    by_kind: Counter[str] = Counter()
    by_owner: Counter[bool] = Counter()
    for r in rows:
        n = r[0] if counted else 1
        if _keep(r, f, subtree, skip="category"):
            by_category[r[_CATEGORY]] += n
        if _keep(r, f, subtree, skip="kind"):
            by_kind[r[_KIND]] += n
        if _keep(r, f, subtree, skip="owner"):
            by_owner[r[_OWNER] is None] += n
    # Answers are cached whatever the visitor's language: each facet carries both labels.
    with translation.override("zh-hans"):
        kinds = {k: str(label) for k, label in Kind.choices}
    with translation.override("en"):
        kinds_en = {k: str(label) for k, label in Kind.choices}
    top = sorted(by_category.items(), key=lambda item: (-item[1], cats.by_id[item[0]].slug))[:20]
    return {
        "category": [Facet(cats.by_id[c].slug, cats.by_id[c].name, n,
                           cats.by_id[c].name_en or cats.by_id[c].name) for c, n in top],
        "kind": [Facet(k, kinds.get(k, k), n, kinds_en.get(k, k))
                 for k, n in sorted(by_kind.items(), key=lambda item: (-item[1], item[0]))],
        "owner": [Facet("platform" if platform else "providers", "", n)
                  for platform, n in sorted(by_owner.items(), key=lambda item: -item[1])],
    }  # fmt: skip


def _page_ids(
    found: list[tuple[Any, ...]], f: SearchFilters, matched: set[int], start: int, stop: int
) -> list[int]:
    """The ids of ``found[start:stop]`` in the requested order (a partial sort: heapq)."""
    top: list[tuple[Any, ...]]
    if f.sort == "price":
        top = heapq.nsmallest(stop, ((r[_PRICE], r[_ID]) for r in found))
    elif f.sort == "-price":
        top = heapq.nsmallest(stop, ((-r[_PRICE], r[_ID]) for r in found))
    elif f.sort == "sales":
        top = heapq.nsmallest(stop, ((-r[_SALES], r[_ID]) for r in found))
    elif f.sort == "newest":
        top = heapq.nlargest(stop, ((r[_CREATED], r[_ID]) for r in found))
    else:
        top = heapq.nlargest(
            stop, ((r[_CATEGORY] in matched, r[_RANK], r[_SALES], r[_ID]) for r in found)
        )
    return [key[-1] for key in top[start:stop]]


def _cards(ids: list[int], query: str) -> list[ProductCard]:
    products = Product.objects.filter(pk__in=ids).only(*_CARD_FIELDS).order_by()
    by_id = {p.pk: p for p in products}
    return [_card(by_id[i], query) for i in ids if i in by_id]


def _node(category: Category | None) -> CategoryNode | None:
    if category is None:
        return None
    return CategoryNode(category.pk, category.slug, category.name, category.name_en, category.kind)


def _page_of(total: int, wanted: int) -> tuple[int, int]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return min(max(1, wanted), pages, MAX_PAGE), pages


def product_search(*, filters: SearchFilters, now: datetime | None = None) -> SearchResult:
    """Products on sale matching ``filters``, one page, with facet counts.

    Exact word matches (every word, the last one as a prefix) come first: products of a
    category the query names, then by text rank (name over other fields), then sales; with
    none, names similar by trigram are returned. Three statements in the common case (the
    categories, the pool, the page's cards), whatever the size of the catalog.
    """
    f = filters
    cats = _Categories.load()
    category = cats.by_slug.get(f.category) if f.category else None
    if f.category and category is None:
        return SearchResult([], 0, 1, 1, {"category": [], "kind": [], "owner": []}, False, None)
    subtree = cats.subtree(category) if category else None
    base = _plain(Product.objects.filter(on_shelf(now)).order_by(), f)
    if not f.query:
        return _listing(base, f, cats, category, subtree)
    raw = search.tsquery(f.query)
    if raw is None:
        return SearchResult([], 0, 1, 1, {"category": [], "kind": [], "owner": []}, False,
                            _node(category))  # fmt: skip
    query = SearchQuery(raw, search_type="raw", config="simple")
    matched = base.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
    rows, capped, found = _pool(matched, f, subtree)
    fuzzy = False
    if not found:
        fuzzy = True
        _trigram_threshold()
        # The %> operator (trigram_word_similar) can use the trigram GIN index; a comparison
        # on the computed similarity would scan every product.
        text = f.query.lower()
        similar = base.filter(search_text__trigram_word_similar=text).annotate(
            rank=TrigramWordSimilarity(text, "search_text")
        )
        rows, capped, found = _pool(similar, f, subtree)
    total = min(len(found), RESULT_POOL)
    page, pages = _page_of(total, f.page)
    matched_categories = cats.matching(search.segment(f.query))
    ids = _page_ids(found, f, matched_categories, (page - 1) * PAGE_SIZE, page * PAGE_SIZE)
    return SearchResult(
        items=_cards(ids, f.query),
        total=total,
        total_capped=capped,
        page=page,
        pages=pages,
        facets=_facets(rows, f, subtree, cats),
        facets_sampled=capped,
        fuzzy=fuzzy,
        category=_node(category),
    )


def _pool(
    matched: QuerySet[Product], f: SearchFilters, subtree: set[int] | None
) -> tuple[list[tuple[Any, ...]], bool, list[tuple[Any, ...]]]:
    """(pool rows for the facets, capped?, rows passing every filter) in one or two statements.

    The pool leaves the facet filters out so that each facet can ignore its own; when it is
    capped and a facet filter is set, the filtered rows are read again with every filter in
    SQL, so that the results are not limited to the sample.
    """
    columns = (*_POOL_FIELDS, "rank", *(["created_at"] if f.sort == "newest" else []))
    rows = list(matched.values_list(*columns)[: RESULT_POOL + 1])
    capped = len(rows) > RESULT_POOL
    rows = rows[:RESULT_POOL]
    filtered = f.category or f.kind or f.owner
    if capped and filtered:
        found = list(_faceted(matched, f, subtree).values_list(*columns)[: RESULT_POOL + 1])
        capped = len(found) > RESULT_POOL
        return rows, capped, found[:RESULT_POOL]
    return rows, capped, [r for r in rows if _keep(r, f, subtree)]


_LISTING_ORDERS = {
    "price": ["min_price_fen", "id"],
    "-price": ["-min_price_fen", "id"],
    "sales": ["-sales_count", "id"],
    "newest": ["-created_at", "-id"],
}


def _listing(
    base: QuerySet[Product], f: SearchFilters, cats: _Categories, category: Category | None,
    subtree: set[int] | None,
) -> SearchResult:  # fmt: skip
    """No words: a page in index order (category, sales), a capped count, sampled facets."""
    results = _faceted(base, f, subtree)
    total = results.values("pk")[: RESULT_POOL + 1].count()
    capped = total > RESULT_POOL
    total = min(total, RESULT_POOL)
    page, pages = _page_of(total, f.page)
    ordering = _LISTING_ORDERS.get(f.sort) or ["-sales_count", "-id"]
    products = results.order_by(*ordering).only(*_CARD_FIELDS)[
        (page - 1) * PAGE_SIZE : page * PAGE_SIZE
    ]
    # Facets counted by the database over the first RESULT_POOL products on sale: a few
    # dozen grouped rows instead of 5,000 rows through Python.
    pool = Product.objects.filter(pk__in=base.values("pk")[:RESULT_POOL]).order_by()
    grouped = list(
        pool.values_list("category_id", "kind", "owner_id")
        .annotate(n=Count("id"))
        .values_list("n", "category_id", "kind", "owner_id")
    )
    sampled = sum(row[0] for row in grouped) >= RESULT_POOL
    return SearchResult(
        items=[_card(p) for p in products],
        total=total,
        total_capped=capped,
        page=page,
        pages=pages,
        facets=_facets(grouped, f, subtree, cats, counted=True),
        facets_sampled=sampled,
        fuzzy=False,
        category=_node(category),
    )


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
