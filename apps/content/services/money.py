"""The CP's share of each content sale, booked on its payable account ``cp:<id>:payable``.

The payments app books every payment Dr ``clearing:<method>`` / Cr ``platform:revenue``; for a
content sale this module then moves the CP's share in the same transaction, Dr
``platform:revenue`` / Cr ``cp:<id>:payable``, so the sale nets to Dr clearing, Cr the CP's
payable (its share) and the platform's revenue (the rest). A refund moves the share of the
refunded amount back (Dr payable / Cr revenue) beside the payments app's own refund journals.
Each posting is keyed by the payment or refund it follows, so it happens once.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from apps.content.models import ContentProvider
from apps.core.money import apply_rate
from apps.ledger.services import LineSpec, account_ensure, journal_post

# The CP's share of a sale when its contract says nothing else: 70% (basis points).
DEFAULT_CP_SHARE_BP = 7000


def payable_code(cp_id: int) -> str:
    """The ledger account settlement reads for what the platform owes a CP."""
    return f"cp:{cp_id}:payable"


def cp_payable_ensure(*, cp_id: int) -> int:
    return account_ensure(
        code=payable_code(cp_id), name=f"应付内容提供商 {cp_id}", kind="liability"
    )


def cp_share_bp(cp: ContentProvider) -> int:
    if cp.revenue_share_bp is not None:
        return cp.revenue_share_bp
    return int(getattr(settings, "CONTENT_DEFAULT_CP_SHARE_BP", DEFAULT_CP_SHARE_BP))


def cp_share_fen(*, cp: ContentProvider, amount_fen: int) -> int:
    """The CP's part of ``amount_fen`` (rounded half-up by core's one rule)."""
    return apply_rate(amount_fen, Decimal(cp_share_bp(cp)) / Decimal(10000))


def share_post(*, cp: ContentProvider, amount_fen: int, key: str, reference: str) -> int:
    """Move the CP's share of a sale from platform revenue to its payable; returns the share."""
    share = cp_share_fen(cp=cp, amount_fen=amount_fen)
    if share > 0:
        cp_payable_ensure(cp_id=cp.pk)
        journal_post(
            idempotency_key=f"content:share:{key}", kind="content.share", reference=reference,
            lines=[LineSpec("platform:revenue", share), LineSpec(payable_code(cp.pk), -share)],
        )  # fmt: skip
    return share


def share_reverse(
    *, cp: ContentProvider, amount_fen: int, key: str, reference: str, share_fen: int | None = None
) -> int:
    """Give back the CP's share of a refunded amount (Dr payable / Cr revenue), or exactly
    ``share_fen`` when the share booked is known; returns it."""
    share = cp_share_fen(cp=cp, amount_fen=amount_fen) if share_fen is None else share_fen
    if share > 0:
        cp_payable_ensure(cp_id=cp.pk)
        journal_post(
            idempotency_key=f"content:unshare:{key}", kind="content.unshare", reference=reference,
            lines=[LineSpec(payable_code(cp.pk), share), LineSpec("platform:revenue", -share)],
        )  # fmt: skip
    return share
