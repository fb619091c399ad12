"""Rules as data: expressions in rule-engine's language over the event's fields (never eval).

``FIELDS`` is the whole vocabulary a rule may use; an expression that does not parse, uses a
field not listed here, compares values of the wrong type or reads a counter no cap defines is
refused by ``rule_compile`` with a message saying which.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import rule_engine
from rule_engine import DataType

from apps.core.errors import InvalidArgument

FIELDS: dict[str, Any] = {
    "kind": DataType.STRING,
    "user_id": DataType.FLOAT,
    "msisdn": DataType.STRING,
    "msisdn_prefix": DataType.STRING,
    "device_id": DataType.STRING,
    "ip": DataType.STRING,
    "cp_id": DataType.STRING,
    "partner_id": DataType.STRING,
    "product": DataType.STRING,
    "amount_fen": DataType.FLOAT,
    "id_hash": DataType.STRING,
    "reference": DataType.STRING,
    "hour": DataType.FLOAT,
    "weekday": DataType.FLOAT,
    "watch": DataType.SET(DataType.STRING),
    "counters": DataType.MAPPING(DataType.STRING, DataType.FLOAT),
    "score": DataType.FLOAT,
}
FIELD_HELP = ", ".join(FIELDS)

_CONTEXT = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(FIELDS))
_COUNTER = re.compile(r"""counters\s*\[\s*(['"])(?P<code>[^'"]+)\1\s*\]""")
_COUNTERS_NAMED = re.compile(r"\bcounters\b")


def counters_read(expression: str) -> frozenset[str] | None:
    """The counters ``expression`` reads, when every read names its counter literally
    (``counters["otp-ip-hour"]``); None when it reads none or reads one it computes (or the
    word appears elsewhere, in a string): then the rule gets the whole mapping."""
    named = [m["code"] for m in _COUNTER.finditer(expression)]
    if not named or len(named) != len(_COUNTERS_NAMED.findall(expression)):
        return None
    return frozenset(named)


class RuleInvalid(InvalidArgument):
    code = "RISK_RULE_INVALID"


@dataclass(frozen=True)
class Compiled:
    label: str
    kinds: frozenset[str]
    outcome: str
    reason_code: str
    rule: rule_engine.Rule
    # The counters the rule names, found once at load: rule-engine converts the whole
    # ``counters`` mapping (every cap's total) at each read of it, so a rule is handed only
    # the ones it reads. None: it reads none, or not by literal name (it gets them all).
    counters: frozenset[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counters", counters_read(self.rule.text))

    def matches(self, context: dict[str, Any]) -> bool:
        """Whether the rule fires; a rule that fails on this event (a type mismatch the
        parser could not see) does not fire."""
        if self.counters is not None:
            totals = context.get("counters", {})
            context = {**context, "counters": {c: totals[c] for c in self.counters if c in totals}}
        try:
            return bool(self.rule.matches(context))
        except rule_engine.errors.EngineError:
            return False


def rule_compile(expression: str, *, counter_codes: Iterable[str]) -> rule_engine.Rule:
    """Parse and type-check ``expression``; raise ``RuleInvalid`` with a clear message."""
    expression = expression.strip()
    if not expression:
        raise RuleInvalid("The expression is empty.")
    rule = _parsed(expression)
    known = set(counter_codes)
    for match in _COUNTER.finditer(expression):
        if match["code"] not in known:
            raise RuleInvalid(
                f"Unknown counter {match['code']!r}; define a cap with that code first.",
                details={"error": "unknown_counter", "counter": match["code"]},
            )
    return rule


@functools.lru_cache(maxsize=1024)
def _parsed(expression: str) -> rule_engine.Rule:
    """The parsed rule, kept: parsing is most of what reloading the configuration costs
    (~1 ms a rule), and a parsed rule holds no state of an evaluation. Refusals are not kept."""
    try:
        return rule_engine.Rule(expression, context=_CONTEXT)
    except rule_engine.errors.RuleSyntaxError as exc:
        raise RuleInvalid(
            f"The expression does not parse: {exc.message}.", details={"error": "syntax"}
        ) from exc
    except rule_engine.errors.SymbolResolutionError as exc:
        raise RuleInvalid(
            f"Unknown field {exc.symbol_name!r}; the fields are: {FIELD_HELP}.",
            details={"error": "unknown_field", "field": exc.symbol_name},
        ) from exc
    except rule_engine.errors.EngineError as exc:
        raise RuleInvalid(
            f"The expression is not valid: {exc.message}.", details={"error": "invalid"}
        ) from exc


def evaluate(rules: Iterable[Compiled], kind: str, context: dict[str, Any]) -> list[Compiled]:
    """The rules for ``kind`` that fire on ``context``."""
    return [r for r in rules if (not r.kinds or kind in r.kinds) and r.matches(context)]
