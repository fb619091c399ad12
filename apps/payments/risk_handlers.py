"""What a risk case's outcome means for the money: "refunds issued" refunds the case's payments."""

from __future__ import annotations

from apps.core import outbox


@outbox.handler("risk.case.closed")
def risk_case_refunds(event: outbox.Event) -> None:
    """A case closed as "refunds issued" gives back the settled payments of its linked
    references (idempotent per case and reference: a redelivered event refunds nothing more)."""
    fact = event.payload
    if fact.get("outcome") != "refunds" or not fact.get("references"):
        return
    from apps.payments.services import refunds_issue_for_case

    refunds_issue_for_case(case_id=int(fact["case_id"]), references=list(fact["references"]))
