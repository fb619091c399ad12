"""What the payments services share: ids, the plain views they return, the audited transitions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.core.audit import audited_transition
from apps.payments.errors import PaymentNotPayable, RefundNotAllowed
from apps.payments.models import PaymentIntent, Refund

Status = PaymentIntent.Status
RStatus = Refund.Status


def new_public_id(prefix: str) -> str:
    """``PI2611271A2B3C4D5E6F7A8B``: alphanumeric, 24 characters (fits every provider)."""
    return f"{prefix}{timezone.localtime():%y%m%d}{secrets.token_hex(8).upper()}"


@dataclass(frozen=True)
class IntentView:
    id: int
    public_id: str
    user_id: int | None
    purpose: str
    reference: str
    method: str
    channel: str
    amount_fen: int
    status: str
    action: dict[str, Any]
    refunded_fen: int
    settles: bool
    review_reason: str
    paid_at: datetime | None
    expires_at: datetime


def _view(intent: PaymentIntent) -> IntentView:
    return IntentView(
        id=intent.pk,
        public_id=intent.public_id,
        user_id=intent.user_id,
        purpose=intent.purpose,
        reference=intent.reference,
        method=intent.method,
        channel=intent.channel,
        amount_fen=intent.amount_fen,
        status=intent.status,
        action=intent.action,
        refunded_fen=intent.refunded_fen,
        settles=intent.settles,
        review_reason=intent.review_reason,
        paid_at=intent.paid_at,
        expires_at=intent.expires_at,
    )


def _move(intent: PaymentIntent, status: str, *, actor_id: int | None = None, **after: Any) -> None:
    """Apply one transition of the intent's state machine, with its audit event (row locked)."""
    audited_transition(
        intent, status, object_type="payment", object_id=intent.public_id, actor_id=actor_id,
        refused=lambda details: PaymentNotPayable(details=details), after=after,
    )  # fmt: skip


@dataclass(frozen=True)
class RefundView:
    id: int
    public_id: str
    intent_public_id: str
    amount_fen: int
    reason: str
    status: str
    automatic: bool
    error_code: str
    created_at: datetime
    requested_by_id: int | None = None
    # The first of two finance approvals a large refund needs (None until it is given).
    first_approved_by_id: int | None = None

    @property
    def status_label(self) -> str:
        """The state in the reader's language, for pages."""
        return str(Refund.Status(self.status).label)


def _refund_view(refund: Refund) -> RefundView:
    return RefundView(
        id=refund.pk, public_id=refund.public_id, intent_public_id=refund.intent.public_id,
        amount_fen=refund.amount_fen, reason=refund.reason, status=refund.status,
        automatic=refund.automatic, error_code=refund.error_code, created_at=refund.created_at,
        requested_by_id=refund.requested_by_id, first_approved_by_id=refund.first_approved_by_id,
    )  # fmt: skip


def _refund_move(refund: Refund, status: str, *, actor_id: int | None = None, **after: Any) -> None:
    audited_transition(
        refund, status, object_type="refund", object_id=refund.public_id, actor_id=actor_id,
        refused=lambda details: RefundNotAllowed(details=details), after=after,
    )  # fmt: skip
