"""Health checks: the kernel checks the database and Redis; other apps register theirs."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection

from apps.core.redis import get_redis

HealthCheck = Callable[[], None]
_checks: dict[str, HealthCheck] = {}


def health_register(name: str, check: HealthCheck) -> None:
    """Register ``check``: it returns on success and raises on failure."""
    _checks[name] = check


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    get_redis().ping()


health_register("database", _database)
health_register("redis", _redis)


def health_report() -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every check; return (all healthy, {name: {"ok", "ms", "error"?}})."""
    report: dict[str, dict[str, object]] = {}
    for name, check in _checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means the component is down
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
        else:
            report[name] = {"ok": True}
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return all(item["ok"] for item in report.values()), report
