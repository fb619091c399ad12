"""Print the figures of the last fault run (var/reliability/*.json) as the Markdown table of
docs/reliability.md: ``python -m tests.faults.report``."""

from __future__ import annotations

import json

from tests.faults.harness import FIGURES_DIR


def main() -> None:
    print(
        "| test | fault | requests during the fault | errors seen by clients (5xx / no answer) | answers during the fault | time to recover (s) | outcome |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in sorted(FIGURES_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(data["statuses_during_fault"].items()))
        recovery = "" if data["recovery_seconds"] is None else f"{data['recovery_seconds']:.2f}"
        notes = {k: v for k, v in data["notes"].items() if k in _OUTCOME_NOTES}
        outcome = "; ".join(f"{k.replace('_', ' ')}: {_short(v)}" for k, v in notes.items())
        print(f"| {data['name']} | {data['fault']} | {data['requests_during_fault']} | "
              f"{data['errors_during_fault']} | {statuses} | {recovery} | {outcome} |")  # fmt: skip


_OUTCOME_NOTES = ("checkouts_acknowledged", "notifications_acknowledged", "cart_adds_answered_as_repeats", "settle_seconds",
                  "answers_during_fault_by_kind", "carrier_attempts", "carrier_applied", "task_runs", "ended",
                  "open_after_fault")  # fmt: skip


def _short(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items())
    return str(value)


if __name__ == "__main__":
    main()
