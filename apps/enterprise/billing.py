"""Paying for bulk distribution from an enterprise's prepaid account in the ledger.

Accounts per enterprise (liabilities, created on first use): ``prepaid:enterprise:<id>``, the
money it may spend, and ``hold:enterprise:<id>``, the money set aside for rows in flight.

- top-up (operator, a bank transfer received): Dr ``clearing:bank_transfer`` / Cr prepaid;
- a batch or a retry round starts: the price of its rows is held, Dr prepaid / Cr hold,
  ``bulk:<batch>:hold:<round>``;
- a row is delivered: its price is earned, Dr hold / Cr ``platform:revenue``,
  ``bulk:row:<row id>:charge`` (a row is delivered once, so charged once);
- a row fails: its price goes back, Dr hold / Cr prepaid, ``bulk:row:<row id>:release:<n>``
  for its n-th failure (each failure follows its own hold, the first or a retry's).

Sponsored data grants (``sponsored``) pay the same way, one grant at a time:
``sponsored:<grant id>:hold`` when granted, ``:charge`` when delivered (or when the carrier,
asked by key about an ``unconfirmed`` grant, says it applied it), ``:release`` when the carrier
refused it or says it did not apply it (a grant is never retried after a refusal). A row's
charge and release keys travel with it as its ``PrepaidBill``.

So held = price of the rows and grants in flight, and nothing is charged for one not delivered. Every
journal is posted in the transaction that moves the row or the batch, under its key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.core.audit import audit_record
from apps.core.errors import Conflict, InvalidArgument
from apps.core.locks import advisory_xact_lock
from apps.enterprise.errors import InsufficientPrepaidBalance
from apps.enterprise.locks import topup_lock_or_create
from apps.enterprise.models import EnterpriseTopUp
from apps.ledger.models import AccountKind
from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, account_ensure, journal_post

TOPUP_CLEARING = "clearing:bank_transfer"
REVENUE = "platform:revenue"


def prepaid_code(enterprise_id: int) -> str:
    return f"prepaid:enterprise:{enterprise_id}"


def hold_code(enterprise_id: int) -> str:
    return f"hold:enterprise:{enterprise_id}"


def _ensure(enterprise_id: int) -> None:
    account_ensure(code=TOPUP_CLEARING, name="银行转账待清算", kind=AccountKind.ASSET)
    account_ensure(
        code=prepaid_code(enterprise_id),
        name=f"企业预付款 {enterprise_id}",
        kind=AccountKind.LIABILITY,
    )
    account_ensure(
        code=hold_code(enterprise_id),
        name=f"企业冻结款 {enterprise_id}",
        kind=AccountKind.LIABILITY,
    )


@dataclass(frozen=True)
class PrepaidBalance:
    available_fen: int  # may be spent on new rows
    held_fen: int  # set aside for rows in flight


def prepaid_balance(*, enterprise_id: int) -> PrepaidBalance:
    """The enterprise's balances in fen (zero before its first top-up)."""
    _ensure(enterprise_id)
    # Liabilities carry credit (negative) balances: what we owe the enterprise.
    return PrepaidBalance(
        available_fen=-account_balance(code=prepaid_code(enterprise_id)),
        held_fen=-account_balance(code=hold_code(enterprise_id)),
    )


def prepaid_lock(*, enterprise_id: int) -> None:
    """Serialise the holds of one enterprise (uploads and retries) for this transaction, so
    two of them cannot both spend the same balance. Taken before any ledger lock."""
    advisory_xact_lock("enterprise_prepaid", str(enterprise_id))


def prepaid_hold(
    *, enterprise_id: int, amount_fen: int, key: str, reference: str, kind: str = "bulk_hold"
) -> None:
    """Set ``amount_fen`` aside for rows about to run; the caller holds ``prepaid_lock``.

    Raises ``InsufficientPrepaidBalance`` (nothing posted) when the available balance is short.
    Idempotent per ``key``.
    """
    if amount_fen <= 0:
        return
    available = prepaid_balance(enterprise_id=enterprise_id).available_fen
    if available < amount_fen:
        raise InsufficientPrepaidBalance(
            details={"needed_fen": amount_fen, "available_fen": available}
        )
    journal_post(
        idempotency_key=key, kind=kind, reference=reference,
        lines=[LineSpec(prepaid_code(enterprise_id), amount_fen), LineSpec(hold_code(enterprise_id), -amount_fen)],
    )  # fmt: skip


@dataclass(frozen=True)
class PrepaidBill:
    """Who pays for one row in flight (a bulk row, a sponsored grant) and under which journals:
    its held price is earned under ``charge_key`` or given back under ``release_key``."""

    enterprise_id: int
    amount_fen: int
    reference: str
    charge_key: str
    release_key: str
    kind: str  # the journals' kinds: ``<kind>_charge`` and ``<kind>_release``


def prepaid_charge(*, bill: PrepaidBill) -> None:
    """Earn a delivered row's price from the hold, once (``bill.charge_key``)."""
    if bill.amount_fen > 0:
        journal_post(
            idempotency_key=bill.charge_key, kind=f"{bill.kind}_charge", reference=bill.reference,
            lines=[LineSpec(hold_code(bill.enterprise_id), bill.amount_fen), LineSpec(REVENUE, -bill.amount_fen)],
        )  # fmt: skip


def prepaid_release(*, bill: PrepaidBill) -> None:
    """Give a failed row's price back to the available balance, once (``bill.release_key``)."""
    if bill.amount_fen > 0:
        journal_post(
            idempotency_key=bill.release_key, kind=f"{bill.kind}_release", reference=bill.reference,
            lines=[LineSpec(hold_code(bill.enterprise_id), bill.amount_fen),
                   LineSpec(prepaid_code(bill.enterprise_id), -bill.amount_fen)],
        )  # fmt: skip


def sponsored_hold(*, enterprise_id: int, grant_id: int, amount_fen: int, reference: str) -> None:
    """Set a sponsored grant's price aside (``sponsored:<id>:hold``); the caller holds
    ``prepaid_lock``. Raises ``InsufficientPrepaidBalance`` (nothing posted) when short."""
    prepaid_hold(enterprise_id=enterprise_id, amount_fen=amount_fen,
                 key=f"sponsored:{grant_id}:hold", reference=reference, kind="sponsored_hold")  # fmt: skip


def enterprise_topup(
    *, enterprise_id: int, amount_fen: int, reference: str, note: str = "", actor_id: int | None
) -> EnterpriseTopUp:
    """Credit money received from an enterprise to its prepaid account.

    Idempotent per ``reference`` (the bank slip): the same reference for the same enterprise
    and amount returns the first top-up and moves nothing; different content raises
    ``Conflict``. One transaction: the top-up row, its journal and an audit event.
    """
    reference = reference.strip()
    if amount_fen <= 0 or not reference or len(reference) > 64:
        raise InvalidArgument(details={"amount_fen": amount_fen, "reference": reference})
    _ensure(enterprise_id)
    with transaction.atomic():
        topup, created = topup_lock_or_create(
            reference=reference,
            defaults={"enterprise_id": enterprise_id, "amount_fen": amount_fen, "note": note[:200],
                      "created_by": actor_id},
        )  # fmt: skip
        if not created:
            if (topup.enterprise_id, topup.amount_fen) != (enterprise_id, amount_fen):
                raise Conflict(details={"reference": reference})
            return topup
        journal = journal_post(
            idempotency_key=f"enterprise_topup:{reference}", kind="enterprise_topup", reference=reference,
            lines=[LineSpec(TOPUP_CLEARING, amount_fen), LineSpec(prepaid_code(enterprise_id), -amount_fen)],
        )  # fmt: skip
        topup.journal_id = journal.id
        topup.save(update_fields=["journal_id"])
        audit_record(
            action="bulk.enterprise_topup", object_type="enterprise", object_id=enterprise_id,
            actor_id=actor_id, after={"amount_fen": amount_fen, "reference": reference},
        )  # fmt: skip
    return topup
