"""``python -m loadtests.growth`` (``make bench-growth``): p95 of search and catalog pages as the
catalog grows, plotted to docs/growth.png.

For each size (10k, 100k, 1M products by default; ``--sizes 10000,100000,1000000,5000000``)
it prepares a database of that size (the main bench database for the largest size it
already holds, ``<name>_<size>`` for the others), starts granian 2 × 8 twice, with the page
and search caches on and then off, and measures with wrk at a few connections: the search
API with the rotated queries, and the category page ``/c/data/``. Uncached figures show how
the work per request grows; cached ones what a visitor sees. Results go to
``loadtests/results/growth-<timestamp>.json``; the plot needs matplotlib (requirements/dev.txt).
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from loadtests import database, report, servers, wrk
from loadtests.inprocess import QUERIES, read_queries

HERE = Path(__file__).resolve().parent
PLOT = servers.ROOT / "docs" / "growth.png"
CACHED = servers.BY_NAME["granian-2x8"]
UNCACHED = servers.BY_NAME["granian-2x8-nocache"]


def _url_for(size: int, main_size: int) -> str:
    url = database.bench_url()
    if size == main_size:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback only
        response.read()


def _measure(url: str, *, script: Path | None, connections: int, duration: int) -> dict[str, Any]:
    extra: dict[str, Any] = {"script": script, "script_args": (str(QUERIES),)} if script else {}
    result = wrk.run(
        url, connections=connections, threads=1, duration=duration, timeout_s=60, **extra
    )
    return {"rps": round(result.rps, 1), "p50_ms": result.p50_ms, "p95_ms": result.p95_ms,
            "p99_ms": result.p99_ms, "non2xx": result.non2xx}  # fmt: skip


def measure_size(size: int, main_size: int, args: argparse.Namespace) -> dict[str, Any]:
    db = database.prepare(products=size, url=_url_for(size, main_size))
    row: dict[str, Any] = {"products": db.products}
    for config in (CACHED, UNCACHED):
        with servers.running(config, db.env) as server:
            # Warm: one request per query and page fills the caches (when on) and the
            # database's buffers, so that the cached figures are hits only.
            search_url = server.base_url + "/api/v1/products/"
            page_url = server.base_url + "/c/data/"
            for query in read_queries():
                _get(f"{search_url}?q={quote(query)}")
            _get(page_url)
            kind = "cached" if config is CACHED else "uncached"
            row[f"search_{kind}"] = _measure(search_url, script=HERE / "search_queries.lua",
                                             connections=args.connections, duration=args.duration)  # fmt: skip
            row[f"category_{kind}"] = _measure(page_url, script=None, connections=args.connections,
                                               duration=args.duration)  # fmt: skip
            print(f"  {db.products:>9,} products, {kind:>8}: search p95 {row[f'search_{kind}']['p95_ms']:8.1f} ms "
                  f"({row[f'search_{kind}']['rps']:,.0f}/s), /c/data/ p95 {row[f'category_{kind}']['p95_ms']:8.1f} ms "
                  f"({row[f'category_{kind}']['rps']:,.0f}/s)", flush=True)  # fmt: skip
    database.release(db)
    return row


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -r requirements/dev.txt): no plot")
        return False
    sizes = [r["products"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for key, label, style in (
        ("search_uncached", "search API, no result cache", "o-"),
        ("category_uncached", "category page /c/data/, no page cache", "s-"),
        ("search_cached", "search API, cached answers", "o--"),
        ("category_cached", "category page, page cache", "s--"),
    ):
        ax.plot(sizes, [r[key]["p95_ms"] for r in rows], style, label=label)
    ax.axhline(50, color="grey", linestyle=":", label="target p95 50 ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("products in the catalog")
    ax.set_ylabel("p95 latency, ms (wrk, few connections)")
    ax.set_title("CarrierHub: p95 as the catalog grows (2 shared cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.growth")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--main-size", type=int, default=1_000_000,
                        help="the size kept in the main bench database (make bench-search)")  # fmt: skip
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args(argv)
    if not wrk.wrk_path():
        print("wrk is not installed: apt-get install -y wrk")
        return 2
    sizes = sorted(int(s) for s in args.sizes.split(","))
    stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    rows = [measure_size(size, args.main_size, args) for size in sizes]
    result = {"meta": {"started": stamp, "command": " ".join(["python", "-m", "loadtests.growth", *(argv or sys.argv[1:])]),
                       "connections": args.connections, "duration_s": args.duration,
                       "code": servers.code_version(), **report.machine_info()},
              "rows": rows, "elapsed_s": round(time.monotonic() - started)}  # fmt: skip
    path = report.write_json(result, stamp, "growth")
    print(
        "\n| products | search p95 ms, cached / uncached | /c/data/ p95 ms, cached / uncached | target |"
    )
    print("|--:|--:|--:|--:|")
    for r in rows:
        print(f"| {r['products']:,} | {r['search_cached']['p95_ms']:.1f} / {r['search_uncached']['p95_ms']:.1f} | "
              f"{r['category_cached']['p95_ms']:.1f} / {r['category_uncached']['p95_ms']:.1f} | ≤ 50 |")  # fmt: skip
    if plot(rows, args.plot):
        print(f"plot: {args.plot.relative_to(servers.ROOT)}")
    print(f"raw results: {path.relative_to(servers.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
