"""Helpers for risk tests: making rules and caps through the services."""

from __future__ import annotations

from typing import Any

from apps.risk import services
from apps.risk.models import Cap


def active_rule(code: str, expression: str, outcome: str = "block", **kw: Any) -> Any:
    rule = services.rule_create(
        code=code, expression=expression, outcome=outcome, reason_code=kw.pop("reason_code", code.upper().replace("-", "_")),
        kinds=kw.pop("kinds", []), actor_id=None, why="test", **kw,
    )  # fmt: skip
    return services.rule_transition(
        rule_id=rule.pk, to=kw.get("state", "active"), actor_id=None, why="test"
    )


def cap(code: str, *, kinds: list[str], dimension: str, window: str, metric: str, limit: int | None,
        outcome: str = "block") -> Cap:  # fmt: skip
    made = Cap(
        code=code,
        kinds=kinds,
        dimension=dimension,
        window=window,
        metric=metric,
        limit=limit,
        outcome=outcome,
    )
    services.cap_saved(cap=made, actor_id=None)
    return made
