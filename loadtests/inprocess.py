"""In-process timings, without HTTP: what the database and Django cost on their own.

``python -m loadtests.inprocess --out FILE`` (run by ``loadtests.run`` with the bench
environment) measures:

- ``product_search`` for each query of ``search_queries.txt``, N times, with the time of every
  SQL statement it runs, and ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements;
- the selectors behind the portal pages when their cache misses (home, a category, a product);
- one whole Django request for a cached page, called straight on the WSGI application, and a
  profile of it: the part of a page hit that is Django's own, with no HTTP server around it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from loadtests.cpu import ForeignCpu
from loadtests.pagecost import bench_django, django_what_ifs
from loadtests.stats import median, percentile, timed

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "search_queries.txt"


def read_queries(path: Path = QUERIES) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class StatementTimer:
    """A database execute wrapper that records each statement and how long it took."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, time.perf_counter() - started))


def label(sql: str) -> str:
    """What a product_search statement is for, from its SQL."""
    text = " ".join(sql.split())
    select = text.split(" FROM ", 1)[0]
    if re.match(r'SELECT (1|%s) AS "a" ', text) and text.endswith("LIMIT 1"):
        return "exists"
    if 'COUNT(*) AS "__count"' in select or text.startswith("SELECT COUNT(*) FROM (SELECT"):
        return "count"
    if "GROUP BY" in text:
        if '"slug"' in select:
            return "facet: category"
        if '"kind"' in select:
            return "facet: kind"
        if "IS NULL" in select:
            return "facet: owner"
        return "facet"
    if 'FROM "catalog_category"' in text and '"catalog_product"' not in text:
        return "category lookup"
    return "page of rows"


def _table(sql: str) -> str:
    match = re.search(r' FROM "(\w+)"', sql)
    return match.group(1) if match else "?"


def _time_calls(
    fn: Callable[[], Any], *, repeat: int, budget_s: float
) -> tuple[list[float], list[list[tuple[str, Any, float]]], Any]:
    """Call ``fn`` once to warm up, then up to ``repeat`` times within ``budget_s`` (at least 3)."""
    from django.db import connection

    result = fn()
    times: list[float] = []
    runs: list[list[tuple[str, Any, float]]] = []
    deadline = time.monotonic() + budget_s
    while len(times) < repeat and (len(times) < 3 or time.monotonic() < deadline):
        timer = StatementTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - started)
        runs.append(timer.statements)
    return times, runs, result


def _summary(
    times: list[float], runs: list[list[tuple[str, Any, float]]], *, by_position: bool = False
) -> dict[str, Any]:
    """Percentiles of the calls and, per kind of statement, the median of its time per call."""
    per_call: list[dict[str, float]] = []
    sql_of: dict[str, tuple[str, Any]] = {}
    for run in runs:
        sums: dict[str, float] = {}
        for i, (sql, params, seconds) in enumerate(run):
            key = f"{i + 1}: {_table(sql)}" if by_position else label(sql)
            sums[key] = sums.get(key, 0.0) + seconds
            sql_of[key] = (sql, params)
        per_call.append(sums)
    keys = list(per_call[0]) if per_call else []
    sql_total = [sum(s for _, _, s in run) for run in runs]
    return {
        "n": len(times),
        "p50_ms": round(percentile(times, 50) * 1000, 2),
        "p95_ms": round(percentile(times, 95) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
        "sql_p50_ms": round(median(sql_total) * 1000, 2),
        "python_p50_ms": round((median(times) - median(sql_total)) * 1000, 2),
        "statements": len(runs[0]) if runs else 0,
        "by_statement_p50_ms": {
            k: round(median(c.get(k, 0.0) for c in per_call) * 1000, 2) for k in keys
        },
        "_sql": sql_of,
    }


def _db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def bench_search(queries: list[str], *, repeat: int, budget_s: float) -> list[dict[str, Any]]:
    from apps.catalog import search, selectors

    rows = []
    for query in queries:
        filters = selectors.SearchFilters(query=query, sort="relevance")
        with ForeignCpu(_db_name()) as foreign:
            times, runs, result = _time_calls(
                partial(selectors.product_search, filters=filters), repeat=repeat, budget_s=budget_s
            )
        row = {"query": query, "tsquery": search.tsquery(query), "total": result.total,
               "fuzzy": result.fuzzy, **_summary(times, runs), "foreign_cores": foreign.cores}  # fmt: skip
        rows.append(row)
        print(
            f"  {query:<14} total {result.total:>8,}{' fuzzy' if result.fuzzy else '      '}"
            f"  p50 {row['p50_ms']:>8.1f} ms  p95 {row['p95_ms']:>8.1f} ms"
            f"  (SQL {row['sql_p50_ms']:.1f} ms, n={row['n']}){foreign.note}",
            flush=True,
        )
    return rows


def bench_pages(*, product_id: int, repeat: int, budget_s: float) -> list[dict[str, Any]]:
    """The selectors a page runs when its cached copy has expired."""
    from apps.catalog import selectors

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("home_page()  [/]", selectors.home_page),
        ("product_search(category=data)  [/c/data/]",
         lambda: selectors.product_search(filters=selectors.SearchFilters(category="data", sort="sales"))),
        (f"product_detail({product_id})  [/p/{product_id}/]",
         lambda: selectors.product_detail(product_id=product_id)),
    ]  # fmt: skip
    rows = []
    for name, fn in cases:
        with ForeignCpu(_db_name()) as foreign:
            times, runs, _ = _time_calls(fn, repeat=repeat, budget_s=budget_s)
        rows.append({"selector": name, **_summary(times, runs, by_position=True),
                     "foreign_cores": foreign.cores})  # fmt: skip
        print(
            f"  {name:<48} p50 {rows[-1]['p50_ms']:>8.1f} ms  p95 {rows[-1]['p95_ms']:>8.1f} ms",
            flush=True,
        )
    return rows


def experiments(rows: list[dict[str, Any]], *, repeat: int) -> list[dict[str, Any]]:
    """What-ifs behind the recommendations in docs/performance.md, each against today's cost.

    They change nothing in the database: settings are set for this session only, and the
    alternative queries are only read.
    """
    from django.contrib.postgres.search import SearchQuery, TrigramWordSimilarity
    from django.db import connection

    from apps.catalog import search, selectors
    from apps.catalog.models import Product

    found: list[dict[str, Any]] = []

    def report(name: str, query: str, today_ms: float, times: list[float]) -> None:
        what_if = percentile(times, 50) * 1000
        found.append({"experiment": name, "query": query, "today_p50_ms": today_ms,
                      "what_if_p50_ms": round(what_if, 2), "n": len(times)})  # fmt: skip
        print(
            f"  {name:<44} {query:<12} today {today_ms:9.1f} ms  what-if {what_if:9.1f} ms",
            flush=True,
        )

    # 1. JIT off for the session: PostgreSQL compiles the big aggregates, which costs more than
    #    it saves at this size.
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        for row in rows:
            n = 3 if row["p50_ms"] > 2000 else repeat
            filters = selectors.SearchFilters(query=row["query"], sort="relevance")
            times = timed(partial(selectors.product_search, filters=filters), n)
            report("product_search with jit = off", row["query"], row["p50_ms"], times)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
    # 2. The typo fallback through the trigram index: the `<%` operator (Django's
    #    trigram_word_similar lookup) can use catalog_product_trgm_gin; word_similarity() >= x
    #    cannot, and scans every row in each of its five statements.
    for row in (r for r in rows if r["fuzzy"]):
        text = row["query"].lower()
        with connection.cursor() as cursor:
            cursor.execute(
                "SET pg_trgm.word_similarity_threshold = %s", [selectors.TRIGRAM_THRESHOLD]
            )
        try:
            qs = Product.objects.filter(
                selectors.on_shelf(), search_text__trigram_word_similar=text
            )

            def fuzzy_page(qs: Any = qs, text: str = text) -> None:
                qs.count()
                list(qs.annotate(similarity=TrigramWordSimilarity(text, "search_text"))
                     .order_by("-similarity", "-sales_count", "-id")[:20])  # fmt: skip

            report(
                "fuzzy: count + page by the trigram index",
                row["query"],
                row["p50_ms"],
                timed(fuzzy_page, repeat),
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET pg_trgm.word_similarity_threshold")
    # 3. A capped count ("1,000+") instead of counting every match.
    for row in (r for r in rows if not r["fuzzy"] and r["total"] > 1000):
        raw = search.tsquery(row["query"]) or ""
        qs = Product.objects.filter(
            selectors.on_shelf(), search_vector=SearchQuery(raw, search_type="raw", config="simple")
        )
        today = row["by_statement_p50_ms"].get("count", math.nan)
        if math.isnan(today) or today < 1.5:
            continue  # the count is already cheap (capped by the selector itself)
        report(
            "count capped at 1,001 rows",
            row["query"],
            today,
            timed(qs[:1001].count, repeat),
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case at most")
    parser.add_argument("--product-id", type=int, required=True)
    parser.add_argument("--page-requests", type=int, default=2000)
    parser.add_argument("--only", default="search,experiments,pages,django")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    result: dict[str, Any] = {}
    if "search" in parts:
        print(f"product_search in-process, up to {args.repeat}× per query:", flush=True)
        rows = bench_search(read_queries(args.queries), repeat=args.repeat, budget_s=args.budget)
        # EXPLAIN the slowest statement of the slowest exact and the slowest fuzzy query.
        explains = []
        for fuzzy in (False, True):
            pool = [r for r in rows if r["fuzzy"] is fuzzy]
            if not pool:
                continue
            worst = max(pool, key=lambda r: r["p50_ms"])
            key = max(worst["by_statement_p50_ms"], key=worst["by_statement_p50_ms"].get)
            sql, params = worst["_sql"][key]
            explains.append({"query": worst["query"], "statement": key,
                             "sql": sql, "params": [str(p) for p in params or ()],
                             "plan": explain(sql, params)})  # fmt: skip
        if "experiments" in parts:
            print(
                "what-ifs (session settings and alternative queries, nothing changed):", flush=True
            )
            result["experiments"] = experiments(rows, repeat=min(args.repeat, 10))
        for r in rows:
            r.pop("_sql")
        result["search"] = rows
        result["explain"] = explains
    if "pages" in parts:
        print("page selectors (what a cache miss costs):", flush=True)
        pages = bench_pages(product_id=args.product_id, repeat=args.repeat, budget_s=args.budget)
        for r in pages:
            r.pop("_sql")
        result["page_selectors"] = pages
    if "django" in parts:
        print("Django alone, WSGI application called in-process (no HTTP server):", flush=True)
        result["django"] = bench_django(
            paths=["/", "/c/data/", f"/p/{args.product_id}/"], requests=args.page_requests
        )
        print("what-ifs for a cached page hit (in-process):", flush=True)
        result["django_what_ifs"] = django_what_ifs(path="/", requests=args.page_requests)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
