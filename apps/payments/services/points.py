"""Points: one point is worth one fen, held on a liability account per user in the ledger."""

from __future__ import annotations

from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, account_ensure, journal_post

POINTS_ACCOUNT = "points:user:{user_id}"


def points_account(user_id: int) -> str:
    code = POINTS_ACCOUNT.format(user_id=user_id)
    account_ensure(code=code, name=f"用户{user_id}积分", kind="liability", unit="POINTS")
    return code


def points_balance(*, user_id: int) -> int:
    """Points the user holds (one point is worth one fen)."""
    return -account_balance(code=points_account(user_id))


def points_grant(*, user_id: int, points: int, key: str, reason: str) -> None:
    """Give a user points (campaigns, the demo seed); idempotent per key."""
    journal_post(
        idempotency_key=f"points:grant:{key}", kind="points.granted", reference=f"user:{user_id}",
        lines=[LineSpec("points:issued", points), LineSpec(points_account(user_id), -points)],
        description=reason,
    )  # fmt: skip
