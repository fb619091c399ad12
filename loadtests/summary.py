"""``python -m loadtests.summary``: one table of every benchmark's newest results (``make bench``).

Reads the newest ``loadtests/results/<name>-*.json`` of each benchmark and prints its figure
beside the issue's target. A benchmark not run yet is listed as such.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loadtests.report import PORTAL_P99_MS, PORTAL_RPS, RESULTS_DIR, SEARCH_P95_MS, SEARCH_RPS


def _newest(prefix: str) -> tuple[Path, dict[str, Any]] | None:
    files = sorted(RESULTS_DIR.glob(f"{prefix}-*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        return None
    return files[-1], json.loads(files[-1].read_text())


def _portal(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for s in data.get("summary", []):
        if s["scenario"] == "portal" and "nocache" not in s["server"]:
            ok = s["rps"] >= PORTAL_RPS and s["p99_ms_worst_run"] <= PORTAL_P99_MS
            rows.append((f"portal {s['target']} ({s['server']})", f"≥ {PORTAL_RPS:,} req/s, p99 ≤ {PORTAL_P99_MS:.0f} ms",
                         f"{s['rps']:,.0f} req/s, p99 {s['p99_ms']:.1f} ms (worst run {s['p99_ms_worst_run']:.1f})", ok))  # fmt: skip
    return rows


def _search(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for s in data.get("summary", []):
        if s["scenario"] == "search":
            ok = s["rps"] >= SEARCH_RPS and s["p95_ms"] <= SEARCH_P95_MS
            rows.append((f"search, {s['target']} ({s['server']})", f"≥ {SEARCH_RPS} /s, p95 ≤ {SEARCH_P95_MS:.0f} ms",
                         f"{s['rps']:,.1f} /s, p95 {s['p95_ms']:.1f} ms", ok))  # fmt: skip
    return rows


def _payments(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    m = data["median"]
    if "purchases_per_s" in m:  # results written before the notify row existed
        return [("purchases end to end", "≥ 200 /s", f"{m['purchases_per_s']:.1f} /s, p99 {m['p99_ms']:.0f} ms",
                 m["purchases_per_s"] >= 200)]  # fmt: skip
    labels = {
        "purchase": "purchases end to end (locust)",
        "notify": "payment notifications applied",
    }
    rows = []
    for mode, row in m.items():
        target = data.get("targets", {}).get(mode, 0)
        rows.append((labels.get(mode, mode), f"≥ {target:.0f} /s",
                     f"{row['per_s']:.1f} /s, p99 {row['p99_ms']:.0f} ms, {row['server_cpu_ms']:.1f} server CPU ms each",
                     row["per_s"] >= target))  # fmt: skip
    return rows


def _deliveries(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for spec, pool in data.get("pools", {}).items():
        rate = pool["median"]["deliveries_per_s"]
        rows.append((f"deliveries ({spec})", "≥ 500 /s", f"{rate:.1f} /s", rate >= 500))
    return rows


def _gateway(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    m = data["median"]
    ok = m["sms_accepted_per_s"] >= 1000 and m["overhead_p99_ms"] <= 5
    return [("partner SMS sends accepted", "≥ 1,000 /s, overhead p99 ≤ 5 ms",
             f"{m['sms_accepted_per_s']:.1f} /s, overhead p99 {m['overhead_p99_ms']:.1f} ms", ok)]  # fmt: skip


READERS: list[tuple[str, Callable[[dict[str, Any]], list[tuple[str, str, str, bool]]]]] = [
    ("portal", _portal), ("search", _search), ("payments", _payments),
    ("deliveries", _deliveries), ("gateway", _gateway),
]  # fmt: skip


def main() -> int:
    print("| benchmark | target | measured (median of runs) | verdict | results file |")
    print("|---|---|---|---|---|")
    for prefix, read in READERS:
        found = _newest(prefix)
        if found is None:
            print(f"| {prefix} | | not run yet (`make bench-{prefix}`) | | |")
            continue
        path, data = found
        try:
            rows = read(data)
        except (KeyError, TypeError, ValueError) as exc:
            print(f"| {prefix} | | unreadable ({exc!r}) | | {path.name} |")
            continue
        for name, target, measured, ok in rows:
            print(
                f"| {name} | {target} | {measured} | {'met' if ok else 'not met'} | {path.name} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
