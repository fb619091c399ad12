"""``python -m loadtests.run``: the benchmarks behind docs/performance.md (``make bench``).

Prepares its own database (``BENCH_DATABASE_URL``) and Redis (``BENCH_REDIS_URL``), fills the
catalog to ``--products`` rows once, then for each server configuration starts the platform on
a free loopback port and measures it with wrk, ``--runs`` times per case, reporting the median:

- portal: the home page, a category page and a product page, anonymous, page cache warm;
- search: the JSON search API, rotating through ``search_queries.txt``;
- selector: ``product_search`` and the page selectors timed in-process, with their SQL.

Prints Markdown tables, each target beside its figure, and writes every run to
``loadtests/results/[<name>-]<timestamp>.json`` (``make bench-portal``, ``make bench-search``).
Every server it starts is stopped on the way out, on Ctrl-C and on errors too.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from loadtests import cpu, database, report, servers, wrk
from loadtests.inprocess import QUERIES, read_queries

HERE = Path(__file__).resolve().parent
SCENARIOS = ("portal", "search", "selector")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.run", description="CarrierHub benchmarks (wrk, loopback only)."
    )
    parser.add_argument("--only", default=",".join(SCENARIOS),
                        help="comma-separated: portal, search (HTTP API), selector (in-process)")  # fmt: skip
    parser.add_argument("--servers", default=",".join(c.name for c in servers.CONFIGS),
                        help="comma-separated server configurations (default: all)")  # fmt: skip
    parser.add_argument("--runs", type=int, help="runs per case; the median is reported (3)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (10)")
    parser.add_argument("--products", type=int, help="catalog size to bench against (1000000)")
    parser.add_argument("--quick", action="store_true",
                        help="20000 products, 3 s runs, 1 run: checks the harness in a minute or two")  # fmt: skip
    parser.add_argument("--connections", type=int, default=64, help="wrk connections, portal")
    parser.add_argument(
        "--search-connections", type=int, default=32, help="wrk connections, search"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--search-duration", type=int,
                        help="seconds per search run (max(30, --duration); searches are slow)")  # fmt: skip
    parser.add_argument("--warmup", type=int, help="seconds of unrecorded load per case first (2)")
    parser.add_argument("--max-foreign", type=float, default=0.25,
                        help="a run during which other processes used more CPU (cores) is redone")  # fmt: skip
    parser.add_argument("--retries", type=int, default=2, help="redos per disturbed run at most")
    parser.add_argument("--max-wait", type=int, default=120,
                        help="seconds to wait before a run for the server to drain and others to calm down")  # fmt: skip
    parser.add_argument("--name", default="",
                        help="results file prefix (loadtests/results/<name>-<timestamp>.json)")  # fmt: skip
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install extra servers (granian) into the venv")  # fmt: skip
    args = parser.parse_args(argv)
    args.products = args.products or (20_000 if args.quick else 1_000_000)
    args.duration = args.duration or (3 if args.quick else 10)
    args.runs = args.runs or (1 if args.quick else 3)
    args.search_duration = args.search_duration or (
        args.duration if args.quick else max(30, args.duration)
    )
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.scenarios = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    args.server_names = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.server_names) - set(servers.BY_NAME)
    if unknown:
        parser.error(
            f"unknown server(s): {', '.join(sorted(unknown))}; known: {', '.join(servers.BY_NAME)}"
        )
    return args


def fetch(url: str, timeout: float = 120) -> dict[str, Any]:
    """One GET, for warming up and for checking that a URL answers 200."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            body = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as exc:
        body, status, headers = exc.read(), exc.code, exc.headers
    parsed: dict[str, Any] = {}
    if "json" in headers.get("Content-Type", ""):
        parsed = json.loads(body)
    return {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1),
            "bytes": len(body), "x_cache": headers.get("X-Cache", ""), "json": parsed}  # fmt: skip


def measure(
    server: servers.RunningServer, *, scenario: str, target: str, url: str, args: argparse.Namespace,
    db_name: str, connections: int, script: Path = wrk.REPORT_LUA, script_args: tuple[str, ...] = (),
    timeout_s: int = 10, duration: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """A short unrecorded warm-up, then ``args.runs`` recorded wrk runs with CPU accounting."""
    common = {"connections": connections, "threads": args.threads, "script": script,
              "script_args": script_args, "timeout_s": timeout_s}  # fmt: skip
    if args.warmup:
        wrk.run(url, duration=args.warmup, **common)
        time.sleep(1)
    rows = []
    for i in range(args.runs):
        for attempt in range(1 + args.retries):
            wait_quiet(server, db_name=db_name, limit=args.max_foreign, max_wait=args.max_wait)
            before = cpu.snapshot(server_pid=server.pid, db_name=db_name)
            result = wrk.run(url, duration=duration or args.duration, **common)
            after = cpu.snapshot(server_pid=server.pid, db_name=db_name)
            usage = cpu.usage(before, after, wrk_cpu_s=result.wrk_cpu_s)
            # CPU taken by processes outside the benchmark (another user's tests, say).
            foreign = cpu.foreign_share(usage)
            disturbed = foreign > args.max_foreign
            row = {"scenario": scenario, "server": server.config.name, "target": target,
                   "url": urlsplit(url).path, "run": i + 1, "attempt": attempt + 1,
                   "disturbed": disturbed, "connections": connections, "duration_s": duration or args.duration,
                   **{k: v for k, v in result.as_dict().items() if k != "output"}, "cpu": usage}  # fmt: skip
            row["command"] = " ".join(row["command"]).replace(str(HERE.parent) + "/", "")
            rows.append(row)
            _print_run(row, result)
            time.sleep(1)  # let sockets in TIME_WAIT and the server's queues drain
            if not disturbed:
                break
            if attempt < args.retries:
                print(
                    f"      {foreign:.2f} cores went to other processes: run {i + 1} again",
                    flush=True,
                )
    return rows


def wait_quiet(server: servers.RunningServer, *, db_name: str, limit: float, max_wait: int) -> None:
    """Wait (up to ``max_wait`` s) until the machine is ready for a clean run.

    Two things can still be busy: the server and its database, finishing requests that a
    previous run left queued (a slow search keeps them busy long after wrk has gone); and,
    on a shared machine, other people's processes (a test run takes cores the server would
    otherwise have). Each is measured over 2 s while the benchmark itself sends nothing.
    """
    deadline = time.monotonic() + max_wait
    waited = False
    while True:
        before = cpu.snapshot(server_pid=server.pid, db_name=db_name)
        time.sleep(2)
        usage = cpu.usage(before, cpu.snapshot(server_pid=server.pid, db_name=db_name))
        foreign = cpu.foreign_share(usage)
        own = usage.get("server", 0.0) + usage.get("postgres_bench", 0.0)
        if own >= 0.05:
            own += usage.get("unattributed", 0.0)  # its parallel query workers
        if (foreign <= limit and own < 0.1) or time.monotonic() > deadline:
            if waited:
                print(f"      ({'ready' if foreign <= limit and own < 0.1 else 'still busy, going on'}: "
                      f"server and database {own:.2f} cores, others {foreign:.2f})", flush=True)  # fmt: skip
            return
        if not waited:
            print(f"      busy: server and database {own:.2f} cores, others {foreign:.2f}; "
                  f"waiting up to {max_wait} s", flush=True)  # fmt: skip
            waited = True
        time.sleep(3)


def _print_run(row: dict[str, Any], result: wrk.WrkResult) -> None:
    c = row["cpu"]
    print(f"    run {row['run']}{'.' + str(row['attempt']) if row['attempt'] > 1 else ''}: "
          f"{result.rps:9,.0f} req/s  p50 {result.p50_ms:7.1f}  p90 {result.p90_ms:7.1f}  "
          f"p95 {result.p95_ms:7.1f}  p99 {result.p99_ms:7.1f} ms  non-2xx {result.non2xx}  "
          f"socket errors {sum(result.socket_errors.values())}  cores: server {c.get('server', 0):.2f} "
          f"wrk {c.get('wrk', 0):.2f} pg {c.get('postgres_bench', 0):.2f} redis {c.get('redis', 0):.2f} "
          f"softirq {c.get('softirq', 0):.2f} foreign {c.get('foreign', 0):.2f} "
          f"busy {c.get('total_busy', 0):.2f}{'  DISTURBED' if row['disturbed'] else ''}", flush=True)  # fmt: skip


def portal(config: servers.ServerConfig, db: database.BenchDatabase, args: argparse.Namespace,
           warm: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    targets = (
        [("home", "/"), ("category", "/c/data/"), ("product", f"/p/{db.product_id}/")]
        if config.is_django
        else [("hello", "/")]
    )
    rows: list[dict[str, Any]] = []
    if config.is_django:
        database.drop_cached_pages(db)  # the first GET below is then a real cache miss
    code = servers.code_version()
    with servers.running(config, db.env) as server:
        print(f"  {config.name} on {server.base_url} (pid {server.pid}, code {code})", flush=True)
        for target, path in targets:
            url = server.base_url + path
            first, second = fetch(url), fetch(url)
            first.pop("json"), second.pop("json")
            warm.append(
                {
                    "server": config.name,
                    "target": target,
                    "url": path,
                    "first": first,
                    "second": second,
                }
            )
            print(f"   {target} {path}: first GET {first['status']} {first['ms']} ms X-Cache={first['x_cache'] or '-'}, "
                  f"second {second['status']} {second['ms']} ms X-Cache={second['x_cache'] or '-'}, {second['bytes']:,} bytes",
                  flush=True)  # fmt: skip
            if first["status"] != 200 or second["status"] != 200:
                raise RuntimeError(f"{url} answered {first['status']}/{second['status']}, not 200")
            rows += measure(server, scenario="portal", target=target, url=url, args=args,
                            db_name=db.db_name, connections=args.connections, timeout_s=30)  # fmt: skip
    for row in rows:
        row["code"] = code
    return rows


def search(config: servers.ServerConfig, db: database.BenchDatabase, args: argparse.Namespace,
           warm: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    """All queries in rotation, then only those with an exact match (no trigram fallback)."""
    code = servers.code_version()
    with servers.running(config, db.env) as server:
        print(f"  {config.name} on {server.base_url} (pid {server.pid}, code {code})", flush=True)
        exact = []
        for query in read_queries():
            got = fetch(f"{server.base_url}/api/v1/products/?q={quote(query)}")
            body = got.pop("json")
            warm.append({"server": config.name, "query": query, "total": body.get("total"),
                         "fuzzy": body.get("fuzzy"), **got})  # fmt: skip
            if got["status"] != 200:
                raise RuntimeError(f"search for {query!r} answered {got['status']}")
            if body.get("fuzzy") is False:
                exact.append(query)
        print(f"   warmed {len(read_queries())} queries, slowest first GET "
              f"{max(w['ms'] for w in warm if w['server'] == config.name):,.0f} ms; "
              f"{len(exact)} have exact matches", flush=True)  # fmt: skip
        url = server.base_url + "/api/v1/products/"
        common = {"args": args, "db_name": db.db_name, "connections": args.search_connections,
                  "script": HERE / "search_queries.lua", "timeout_s": 120,
                  "duration": args.search_duration}  # fmt: skip
        print("   all queries:", flush=True)
        rows = measure(server, scenario="search", target="all queries", url=url,
                       script_args=(str(QUERIES),), **common)  # fmt: skip
        if exact and len(exact) < len(read_queries()):
            with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as file:
                file.write("\n".join(exact) + "\n")
                file.flush()
                print("   exact-match queries only:", flush=True)
                rows += measure(server, scenario="search", target="exact matches", url=url,
                                script_args=(file.name,), **common)  # fmt: skip
    for row in rows:
        row["code"] = code
    return rows


def selector(db: database.BenchDatabase, args: argparse.Namespace) -> dict[str, Any]:
    code = servers.code_version()
    print(f"code {code}", flush=True)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "loadtests.inprocess", "--out", out.name,
             "--product-id", str(db.product_id), "--repeat", "5" if args.quick else "20",
             "--budget", "15" if args.quick else "60", "--page-requests", "300" if args.quick else "2000"],
            cwd=servers.ROOT, env=db.env, check=True,
        )  # fmt: skip
        return {**json.loads(Path(out.name).read_text()), "code": code}


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk.wrk_path() and set(args.scenarios) & {"portal", "search"}:
        print(
            "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS)"
        )
        return 2
    signal.signal(signal.SIGTERM, _sigterm)
    stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    result: dict[str, Any] = {
        "meta": {"started": datetime.now().astimezone().isoformat(timespec="seconds"),
                 "command": report.command_line(), "runs": args.runs, "duration_s": args.duration,
                 "connections_portal": args.connections, "connections_search": args.search_connections,
                 "wrk_threads": args.threads, "quick": args.quick, **report.machine_info()},
        "runs": [], "warm": {"portal": [], "search": []},
    }  # fmt: skip
    db = None
    try:
        db = database.prepare(products=args.products)
        result["database"] = db.describe()
        result["meta"].update(postgres=db.postgres_version, redis=db.redis_version)
        extras = servers.ensure_extras(install=not args.no_install)
        result["meta"]["extras"] = extras
        chosen = [servers.BY_NAME[n] for n in args.server_names]
        skipped = [c.name for c in chosen if not servers.usable(c, extras)]
        chosen = [c for c in chosen if servers.usable(c, extras)]
        if skipped:
            print(f"skipping (server not installed): {', '.join(skipped)}")
        result["meta"]["servers"] = {c.name: c.label for c in chosen}
        if "selector" in args.scenarios:
            print("\n== selector (in-process) ==", flush=True)
            result["inprocess"] = selector(db, args)
        if "portal" in args.scenarios:
            print(f"\n== portal: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
                  f"{args.runs} run(s) per page ==", flush=True)  # fmt: skip
            for config in chosen:
                result["runs"] += portal(config, db, args, result["warm"]["portal"])
        if "search" in args.scenarios:
            print(f"\n== search: wrk -t{args.threads} -c{args.search_connections} -d{args.search_duration}s, "
                  f"{args.runs} run(s) ==", flush=True)  # fmt: skip
            for config in (c for c in chosen if c.name in servers.SEARCH_CONFIGS):
                result["runs"] += search(config, db, args, result["warm"]["search"])
    except KeyboardInterrupt:
        print("\ninterrupted: the servers started here are stopped; partial results follow")
        result["meta"]["interrupted"] = True
    except Exception as exc:  # report what was measured before the failure
        traceback.print_exc()
        result["meta"]["error"] = repr(exc)
    finally:
        database.release(db)
    result["meta"]["elapsed_s"] = round(time.monotonic() - started)
    result["summary"] = report.summarise(result["runs"], max_foreign=args.max_foreign)
    text = report.markdown(result)
    result["markdown"] = text
    path = report.write_json(result, stamp, args.name)
    print("\n" + text)
    print(
        f"\nraw results: {path.relative_to(servers.ROOT)}  ({result['meta']['elapsed_s']} s in all)"
    )
    if result["meta"].get("interrupted"):
        return 130
    return 1 if result["meta"].get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
