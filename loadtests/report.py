"""Medians over runs, the Markdown tables, the verdict against the targets, and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loadtests import cpu, servers, wrk
from loadtests.stats import median

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The targets.
PORTAL_RPS, PORTAL_P99_MS = 10_000, 50.0
SEARCH_RPS, SEARCH_P95_MS = 500, 50.0
FIGURES = (
    "rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "bytes_per_request",
    "in_flight", "requests",
)  # fmt: skip
CPU_KEYS = (
    "server", "wrk", "postgres_bench", "redis", "softirq", "kernel", "harness", "foreign",
    "unattributed", "total_busy",
)  # fmt: skip


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git(*args: str) -> str:
    command = ["git", *args]
    done = subprocess.run(command, cwd=servers.ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.strip()


def machine_info() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        "",
    )
    mem_kb = next(
        (
            int(ln.split()[1])
            for ln in _read("/proc/meminfo").splitlines()
            if ln.startswith("MemTotal")
        ),
        0,
    )
    dirty = _git("status", "--porcelain")
    return {
        "cpu_model": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": servers.installed_version("django"),
        "gunicorn": servers.installed_version("gunicorn"),
        "granian": servers.installed_version("granian") or "not installed",
        "wrk": wrk.wrk_version(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len(dirty.splitlines()) if dirty else 0,
        "load_average_at_start": _read("/proc/loadavg").split()[:3],
    }


def summarise(rows: Iterable[dict[str, Any]], *, max_foreign: float) -> list[dict[str, Any]]:
    """One row per (scenario, server, target): the median of each figure over the runs.

    Of a run's attempts, the first that other processes did not disturb counts; if all were
    disturbed, the last one does (and the row is marked).
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    final: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for row in rows:
        row["disturbed"] = cpu.foreign_share(row["cpu"]) > max_foreign
        run = (row["scenario"], row["server"], row["target"], row["run"])
        if run not in final or final[run]["disturbed"]:
            final[run] = row
    for (scenario, server, target, _), row in final.items():
        groups.setdefault((scenario, server, target), []).append(row)
    out = []
    for (scenario, server, target), runs in groups.items():
        summary: dict[str, Any] = {
            "scenario": scenario, "server": server, "target": target, "url": runs[0]["url"],
            "runs": len(runs),
            "disturbed_runs": sum(1 for r in runs if r.get("disturbed")),
            "non2xx_total": sum(r["non2xx"] for r in runs),
            "socket_errors_total": sum(sum(r["socket_errors"].values()) for r in runs),
            "rps_each_run": [round(r["rps"], 1) for r in runs],
            "p99_ms_worst_run": round(max(r["p99_ms"] for r in runs), 1),
        }  # fmt: skip
        for figure in FIGURES:
            summary[figure] = round(median(r.get(figure, math.nan) for r in runs), 2)
        summary["cpu"] = {
            k: round(median(r["cpu"].get(k, math.nan) for r in runs), 2) for k in CPU_KEYS
        }
        out.append(summary)
    return out


def _unanswered(s: dict[str, Any]) -> str:
    waiting, done = s.get("in_flight", math.nan), s.get("requests", math.nan)
    if math.isnan(waiting) or waiting < 0:
        return "–"
    return f"{waiting:.0f} ({waiting / (waiting + done):.0%})"


def _fmt(value: float, digits: int = 1) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:,.{digits}f}"
    )


def _cpu(c: dict[str, float]) -> str:
    return (f"{_fmt(c['server'], 2)} / {_fmt(c['wrk'], 2)} / {_fmt(c['postgres_bench'], 2)} / "
            f"{_fmt(c['redis'], 2)} / {_fmt(c['softirq'], 2)} / {_fmt(c['unattributed'], 2)} / "
            f"{_fmt(c['foreign'], 2)} / {_fmt(c['total_busy'], 2)}")  # fmt: skip


CPU_HEADER = "CPU cores: server / wrk / PG / Redis / softirq / unattributed / foreign / total"


def markdown(result: dict[str, Any]) -> str:
    lines: list[str] = []
    labels = {c.name: c.label for c in servers.CONFIGS}
    portal = [s for s in result["summary"] if s["scenario"] == "portal"]
    if portal:
        lines += ["### Portal pages (anonymous, page cache warm)", "",
                  f"| server | page | req/s | p50 ms | p90 ms | p99 ms | worst run's p99 ms | non-2xx | socket errors | {CPU_HEADER} | runs |",
                  "|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|"]  # fmt: skip
        for s in portal:
            lines.append(
                f"| {s['server']} | {s['target']} `{s['url']}` | {_fmt(s['rps'], 0)} | {_fmt(s['p50_ms'])} | "
                f"{_fmt(s['p90_ms'])} | {_fmt(s['p99_ms'])} | {_fmt(s['p99_ms_worst_run'])} | {s['non2xx_total']} | {s['socket_errors_total']} | "
                f"{_cpu(s['cpu'])} | {s['runs']}{'*' * bool(s['disturbed_runs'])} |"
            )
        lines.append("")
    search = [s for s in result["summary"] if s["scenario"] == "search"]
    if search:
        lines += ["### Search API `/api/v1/products/?q=…` (queries rotated, not cached)", "",
                  f"| server | queries | req/s | p50 ms | p95 ms | p99 ms | max ms | unanswered at end | non-2xx | socket errors | {CPU_HEADER} | runs |",
                  "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"]  # fmt: skip
        for s in search:
            lines.append(
                f"| {s['server']} | {s['target']} | {_fmt(s['rps'], 1)} | {_fmt(s['p50_ms'])} | {_fmt(s['p95_ms'])} | "
                f"{_fmt(s['p99_ms'])} | {_fmt(s['max_ms'], 0)} | {_unanswered(s)} | {s['non2xx_total']} | "
                f"{s['socket_errors_total']} | {_cpu(s['cpu'])} | {s['runs']}{'*' * bool(s['disturbed_runs'])} |"
            )
        lines += ["", "Unanswered at end: requests still waiting when wrk stopped, and their share of all "
                  "requests sent (median over runs). Their latency is in none of the percentiles: "
                  "with a large share, the percentiles flatter.", ""]  # fmt: skip
    inproc = result.get("inprocess") or {}
    if inproc.get("search"):
        lines += ["### `product_search` in-process (no HTTP)", "",
                  "| query | matches | fuzzy | p50 ms | p95 ms | SQL p50 ms | Python p50 ms | slowest statement (p50 ms) | n |",
                  "|---|--:|---|--:|--:|--:|--:|---|--:|"]  # fmt: skip
        for r in inproc["search"]:
            worst = max(r["by_statement_p50_ms"].items(), key=lambda kv: kv[1])
            lines.append(
                f"| {r['query']} | {r['total']:,} | {'yes' if r['fuzzy'] else 'no'} | {_fmt(r['p50_ms'])} | "
                f"{_fmt(r['p95_ms'])} | {_fmt(r['sql_p50_ms'])} | {_fmt(r['python_p50_ms'])} | "
                f"{worst[0]} ({_fmt(worst[1])}) | {r['n']} |"
            )
        lines.append("")
    if inproc.get("page_selectors"):
        lines += ["### Page selectors in-process (the cost of a cache miss)", "",
                  "| selector | p50 ms | p95 ms | SQL p50 ms | statements |", "|---|--:|--:|--:|--:|"]  # fmt: skip
        for r in inproc["page_selectors"]:
            lines.append(
                f"| {r['selector']} | {_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | {_fmt(r['sql_p50_ms'])} | {r['statements']} |"
            )
        lines.append("")
    if inproc.get("django"):
        lines += ["### Django alone per cached page (WSGI app called in-process, one core)", "",
                  "| path | X-Cache | bytes | µs per request | requests/s per core |", "|---|---|--:|--:|--:|"]  # fmt: skip
        for path, r in inproc["django"]["paths"].items():
            lines.append(
                f"| `{path}` | {r['x_cache']} | {r['bytes']:,} | {_fmt(r['us_per_request'], 0)} | {r['requests_per_s_one_core']:,} |"
            )
        lines.append("")
    if any(s["disturbed_runs"] for s in result["summary"]):
        lines.append(
            "`*`: at least one run was still disturbed by other processes after the retries.\n"
        )
    lines.append("CPU is cores used on average over a run (2.00 = both cores of this machine). "
                 "PG = backends of the bench database; unattributed = processes too short-lived "
                 "to be seen, mostly PostgreSQL parallel workers; foreign = processes outside "
                 "the benchmark.\n")  # fmt: skip
    codes = sorted({r.get("code", "") for r in result["runs"]} - {""})
    if codes:
        lines.append(f"Code measured: {', '.join(codes)} (commit at each server start).\n")
    lines += verdict(result)
    lines += ["", "Servers: " + "; ".join(f"`{k}` = {v}" for k, v in labels.items())]
    return "\n".join(lines)


def verdict(result: dict[str, Any]) -> list[str]:
    lines = ["### Against the targets", ""]
    portal = [s for s in result["summary"] if s["scenario"] == "portal" and not s["server"].startswith("hello")
              and "nocache" not in s["server"] and "localmem" not in s["server"]]  # fmt: skip
    by_server: dict[str, list[dict[str, Any]]] = {}
    for s in portal:
        by_server.setdefault(s["server"], []).append(s)
    for server, pages in by_server.items():
        rps = min(p["rps"] for p in pages)
        p99 = max(p["p99_ms"] for p in pages)
        ok = rps >= PORTAL_RPS and p99 < PORTAL_P99_MS
        lines.append(
            f"- portal, {server}: slowest page {rps:,.0f} req/s ({rps / PORTAL_RPS:.0%} of {PORTAL_RPS:,}), "
            f"worst p99 {p99:.1f} ms (target < {PORTAL_P99_MS:.0f}): **{'met' if ok else 'not met'}**"
        )
    for s in (s for s in result["summary"] if s["scenario"] == "search"):
        ok = s["rps"] >= SEARCH_RPS and s["p95_ms"] < SEARCH_P95_MS
        lines.append(
            f"- search ({s['target']}), {s['server']}: {s['rps']:,.1f} req/s ({s['rps'] / SEARCH_RPS:.0%} of {SEARCH_RPS}), "
            f"p95 {s['p95_ms']:.1f} ms (target < {SEARCH_P95_MS:.0f}): **{'met' if ok else 'not met'}**"
        )
    return lines


def write_json(result: dict[str, Any], stamp: str, prefix: str = "") -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{prefix + '-' if prefix else ''}{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return path


def command_line() -> str:
    return " ".join([Path(sys.executable).name, "-m", "loadtests.run", *sys.argv[1:]])


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtests.report RESULTS.json``: the tables of a finished run, again."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m loadtests.report")
    parser.add_argument("results", type=Path)
    parser.add_argument("--max-foreign", type=float, default=0.25)
    args = parser.parse_args(argv)
    result = json.loads(args.results.read_text())
    result["summary"] = summarise(result["runs"], max_foreign=args.max_foreign)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
