"""Test support: post the journals other apps will post (a CP's sales, a partner's invoice),
dated where a test needs them."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from unittest import mock

from apps.ledger.services import LineSpec, account_ensure, journal_post

_counter = iter(range(1, 10**9))


def ensure_party(kind: str, party_id: int) -> str:
    suffix = "receivable" if kind == "partner" else "payable"
    code = f"{kind}:{party_id}:{suffix}"
    account_ensure(
        code=code, name=f"{kind} {party_id}", kind="asset" if kind == "partner" else "liability"
    )
    return code


def dated(at: dt.datetime | None) -> AbstractContextManager[object]:
    """Make the ledger date what is posted inside the block ``at`` (it dates lines ``now``)."""
    return mock.patch("django.utils.timezone.now", return_value=at) if at else nullcontext()


def post(
    kind: str,
    party_id: int,
    owed_fen: int,
    *,
    journal_kind: str = "content_sale",
    at: dt.datetime | None = None,
    clearing: str = "clearing:alipay",
) -> int:
    """Add ``owed_fen`` to what is owed between the platform and the party (negative: take it
    off, as a refund does), against a provider's clearing account, dated ``at``."""
    code = ensure_party(kind, party_id)
    amount = -owed_fen if kind != "partner" else owed_fen
    with dated(at):
        journal = journal_post(
            idempotency_key=f"test:{journal_kind}:{next(_counter)}",
            kind=journal_kind,
            reference=f"test:{party_id}",
            lines=[LineSpec(code, amount), LineSpec(clearing, -amount)],
        )
    return journal.id
