"""Payment reads for pages, the API, owners and the workbench."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class ReconRow:
    """A payment or refund as the platform has it, for matching a provider's daily bill."""

    kind: str  # "payment" | "refund"
    out_trade_no: str  # the intent's public id
    provider_trade_no: str
    refund_no: str  # the refund's public id (its out_request_no); "" for a payment
    amount_fen: int
    succeeded: bool
    at: datetime | None  # paid (payment) or last moved (refund)


def _payment_row(intent: PaymentIntent) -> ReconRow:
    succeeded = intent.status in (
        PaymentIntent.Status.SUCCEEDED,
        PaymentIntent.Status.PARTIALLY_REFUNDED,
        PaymentIntent.Status.REFUNDED,
    )
    return ReconRow("payment", intent.public_id, intent.provider_trade_no, "",
                    intent.amount_fen, succeeded, intent.paid_at)  # fmt: skip


def _refund_row(refund: Refund) -> ReconRow:
    return ReconRow("refund", refund.intent.public_id, refund.intent.provider_trade_no,
                    refund.public_id, refund.amount_fen,
                    refund.status == Refund.Status.SUCCEEDED, refund.updated_at)  # fmt: skip


def recon_day(*, method: str, start: datetime, end: datetime) -> Iterator[ReconRow]:
    """The method's payments paid and refunds succeeded in ``[start, end)``, streamed."""
    intents = PaymentIntent.objects.filter(method=method, paid_at__gte=start, paid_at__lt=end)
    for intent in intents.order_by("pk").iterator(chunk_size=5000):
        yield _payment_row(intent)
    refunds = Refund.objects.filter(
        intent__method=method, status=Refund.Status.SUCCEEDED,
        updated_at__gte=start, updated_at__lt=end,
    ).select_related("intent")  # fmt: skip
    for refund in refunds.order_by("pk").iterator(chunk_size=5000):
        yield _refund_row(refund)


def recon_lookup(
    *, method: str, out_trade_nos: list[str], refund_nos: list[str],
    provider_trade_nos: list[str] | None = None,
) -> dict[str, ReconRow]:  # fmt: skip
    """Payments by out-trade-no and refunds by refund number, whatever their day or status
    (the provider's rows the day's platform rows did not match); payments found by the
    provider's trade number (``provider_trade_nos``) are keyed ``trade:<number>``."""
    found: dict[str, ReconRow] = {}
    for intent in PaymentIntent.objects.filter(method=method, public_id__in=out_trade_nos):
        found[intent.public_id] = _payment_row(intent)
    if provider_trade_nos:
        for intent in PaymentIntent.objects.filter(
            method=method, provider_trade_no__in=provider_trade_nos
        ):
            found[f"trade:{intent.provider_trade_no}"] = _payment_row(intent)
    for refund in Refund.objects.filter(
        intent__method=method, public_id__in=refund_nos
    ).select_related("intent"):
        found[refund.public_id] = _refund_row(refund)
    return found


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
