"""Each rule is handed only the counters it names (found once at load), with the same answers."""

from __future__ import annotations

import pytest

from apps.risk.engine import Compiled, counters_read, evaluate, rule_compile

CODES = [f"cap-{n}" for n in range(16)]


def _compiled(expression: str) -> Compiled:
    return Compiled(label="r@1", kinds=frozenset(), outcome="block", reason_code="R",
                    rule=rule_compile(expression, counter_codes=CODES))  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ('counters["cap-3"] > 2', frozenset({"cap-3"})),
        ("counters['cap-3'] > 2 and counters[ 'cap-7' ] < 9", frozenset({"cap-3", "cap-7"})),
        ("amount_fen > 100", None),  # reads no counter: the mapping is never converted
        ("counters[kind] > 2", None),  # a computed name: the whole mapping
        ('counters["cap-3"] > 2 and reference != "counters"', None),  # the word elsewhere
    ],
)
def test_a_rule_knows_the_counters_it_names(expression, named):
    assert counters_read(expression) == named
    assert _compiled(expression).counters == named


def test_rules_answer_the_same_with_only_their_counters():
    totals = {code: n for n, code in enumerate(CODES)}
    context = {"kind": "cap-9", "amount_fen": 500.0, "reference": "R1", "counters": totals}
    rules = [
        _compiled('counters["cap-3"] == 3 and counters["cap-15"] > 14'),  # fires
        _compiled('counters["cap-3"] > 3'),  # does not
        _compiled("counters[kind] == 9"),  # fires, with the whole mapping
        _compiled('amount_fen >= 500 and "cap-15" in counters'),  # the word twice: whole mapping
    ]

    fired = [r.rule.text for r in evaluate(rules, "checkout", context)]

    assert fired == [rules[0].rule.text, rules[2].rule.text, rules[3].rule.text]
    assert context["counters"] is totals and len(totals) == 16  # the caller's context untouched


def test_a_counter_missing_from_a_recorded_context_still_does_not_fire():
    """A backtest over decisions recorded before a cap existed: the read fails, as before."""
    rule = _compiled('counters["cap-5"] < 3')

    assert not rule.matches({"counters": {"cap-1": 1}})
