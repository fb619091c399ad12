"""Payment reads for pages, the API, owners and the workbench."""

from __future__ import annotations

from collections.abc import Iterable

from apps.payments.errors import PaymentNotFound, RefundNotFound
from apps.payments.handlers import LineDescription, purpose_handler
from apps.payments.models import PaymentIntent, Refund
from apps.payments.services import IntentView, RefundView, _refund_view, _view


def intent_get(*, public_id: str) -> IntentView:
    intent = PaymentIntent.objects.filter(public_id=public_id).first()
    if intent is None:
        raise PaymentNotFound()
    return _view(intent)


def intents_for(*, purpose: str, reference: str) -> list[IntentView]:
    return [
        _view(i)
        for i in PaymentIntent.objects.filter(purpose=purpose, reference=reference).order_by("id")
    ]


def refunds_for(*, purpose: str, reference: str) -> list[RefundView]:
    rows = (
        Refund.objects.select_related("intent")
        .filter(intent__purpose=purpose, intent__reference=reference)
        .order_by("id")
    )
    return [_refund_view(r) for r in rows]


def refund_get(*, public_id: str) -> RefundView:
    refund = Refund.objects.select_related("intent").filter(public_id=public_id).first()
    if refund is None:
        raise RefundNotFound()
    return _refund_view(refund)


def state_label(*, subject: str, status: str) -> str:
    """The reader's words for a payment's or a refund's state (``subject`` "payment" or
    "refund"), for timelines; the code itself when it is not a known state."""
    choices = {"payment": PaymentIntent.Status, "refund": Refund.Status}.get(subject)
    if choices is None or status not in choices.values:
        return status
    return str(choices(status).label)


def refunds_lines(refunds: Iterable[Refund]) -> dict[int, list[LineDescription]]:
    """Each refund's lines with their delivery state, as the payment's owner describes them
    (one call per purpose; empty for a purpose whose handler does not describe lines)."""
    refunds = list(refunds)
    by_purpose: dict[str, set[str]] = {}
    for refund in refunds:
        by_purpose.setdefault(refund.intent.purpose, set()).add(refund.intent.reference)
    described: dict[tuple[str, str], list[LineDescription]] = {}
    for purpose, references in by_purpose.items():
        try:
            describe = purpose_handler(purpose).describe_lines
        except LookupError:
            continue
        if describe is not None:
            for reference, lines in describe(sorted(references)).items():
                described[(purpose, reference)] = lines
    return {r.pk: described.get((r.intent.purpose, r.intent.reference), []) for r in refunds}
