"""What a payment means is its owner's business: owners register handlers per purpose.

``payments`` imports no owner. Orders (and later content and the gateway) call
``purpose_register`` in their AppConfig.ready(); the payments services call the handler in
the same transaction that records the payment, so the owner's state and the payment's
commit together. Handlers must be idempotent and must not make network calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaymentFact:
    """What an owner learns about a payment."""

    intent_id: int
    public_id: str
    purpose: str
    reference: str
    method: str
    amount_fen: int
    user_id: int | None
    # What the purpose's ``lock`` returned in this transaction (e.g. the order row, locked), so
    # that the owner need not read and lock it again; None when nothing was locked for it.
    owner: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RefundFact:
    refund_id: int
    intent_id: int
    purpose: str
    reference: str
    method: str
    amount_fen: int
    intent_fully_refunded: bool
    # False for money the owner never took (a second payment, a late one): nothing to undo.
    intent_settled: bool = True


@dataclass(frozen=True)
class LineDescription:
    """One line of what a payment bought, as its owner tells it (for the refund pages)."""

    name: str
    state: str  # the owner's delivery state code
    state_label: str


@dataclass(frozen=True)
class PurposeHandler:
    # Returns True if the owner takes the payment; False (e.g. the order was cancelled or is
    # already paid) makes the payments app refund it automatically.
    on_succeeded: Callable[[PaymentFact], bool]
    on_refunded: Callable[[RefundFact], None] | None = None
    # The owner's label for the payment pages ("Order CH2026…").
    describe: Callable[[str], str] | None = None
    # Lock the owner's object first, so that every path takes locks in one order (owner, then
    # payment, then ledger) and a notification cannot deadlock with a cancellation. What it
    # returns (the locked row, or None) comes back to ``on_succeeded`` as ``PaymentFact.owner``.
    lock: Callable[[str], object] | None = None
    # The lines of each reference with their delivery state, for the refund list and approval
    # page (one call for a page of refunds: references in, {reference: lines} out).
    describe_lines: Callable[[list[str]], dict[str, list[LineDescription]]] | None = None
    # Asked before a refund of the reference is approved (in the approving transaction, before
    # the payment's locks; the owner locks its own rows): raises a DomainError to refuse, e.g.
    # orders when a line asked back undelivered has been delivered since.
    refund_check: Callable[[str], None] | None = None


_handlers: dict[str, PurposeHandler] = {}


def purpose_register(purpose: str, handler: PurposeHandler) -> None:
    _handlers[purpose] = handler


def purpose_handler(purpose: str) -> PurposeHandler:
    try:
        return _handlers[purpose]
    except KeyError as exc:
        raise LookupError(f"no handler registered for payment purpose {purpose!r}") from exc
