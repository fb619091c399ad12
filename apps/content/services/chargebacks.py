"""Chargebacks: a paid charge the subscriber disputed with the carrier (or the payment
provider), which took the money back. An operator records one in the workbench, or the
carrier's dispute file brings them (``chargebacks_import``).

Recording one, in one transaction under the charge's lock: the charge moves ``succeeded`` ->
``charged_back`` (its transition table: a refunded charge cannot be charged back, a charged
back one cannot be refunded); the ledger gets one journal of kind ``content.chargeback``
(idempotency key ``content:chargeback:<charge>``): Cr ``clearing:<method>`` the amount, Dr the
CP's payable the share booked at the sale, Dr ``platform:revenue`` the rest, so settlement
counts the share as a chargeback and pays the CP that much less; the entitlement is revoked;
the CP is told (``charge.charged_back``) and risk gets a ``chargeback`` label (subscriber's
number, CP, product). Idempotent per charge: a repeat returns the first chargeback and moves
nothing. No network call is made (the carrier has taken the money already).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from apps.content.errors import (
    ChargebackAmountMismatch,
    ChargebackNotApplicable,
    ChargeNotFound,
    ChargeStateConflict,
    DisputeReferenceConflict,
    ReasonRequired,
)
from apps.content.locks import charge_lock
from apps.content.models import Charge, Chargeback, Entitlement
from apps.content.services.entitlements import entitlements_revoke
from apps.content.services.money import cp_payable_ensure, payable_code
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import DomainError, InvalidArgument
from apps.ledger import selectors as ledger_selectors
from apps.ledger.services import LineSpec, journal_post
from apps.payments import services as payments
from apps.risk import services as risk

PURPOSE = "content"


def _share_booked(charge: Charge) -> int:
    """The CP's share the sale booked on its payable (content.share journals of the charge)."""
    code = payable_code(charge.cp_id)
    return -sum(
        line.amount_fen
        for journal in ledger_selectors.journals_for_reference(reference=f"{PURPOSE}:{charge.pk}")
        if journal.kind == "content.share"
        for line in journal.lines
        if line.account_code == code
    )


def chargeback_record(
    *, charge_id: str, reason: str, source: str, actor_id: int | None,
    dispute_reference: str = "", amount_fen: int | None = None,
) -> Chargeback:  # fmt: skip
    """Record a chargeback of a paid charge (see the module docstring). Refused with nothing
    written: no reason (``ReasonRequired``), an unknown charge, an amount that is not the
    charge's (``ChargebackAmountMismatch``: a chargeback takes back the whole charge), a dispute
    reference recorded against another charge, a charge not paid or refunded
    (``ChargeStateConflict``), one with a refund under way or paid with points
    (``ChargebackNotApplicable``). Locks the charge, then the ledger's balances."""
    reason, dispute_reference = reason.strip()[:200], dispute_reference.strip()[:64]
    if not reason:
        raise ReasonRequired()
    if source not in Chargeback.Source.values:
        raise InvalidArgument(details={"source": source})
    with transaction.atomic():
        charge = charge_lock(charge_id=charge_id)
        if charge is None:
            raise ChargeNotFound()
        existing = Chargeback.objects.filter(charge=charge).first()
        if existing is not None:
            return existing
        if amount_fen is not None and amount_fen != charge.amount_fen:
            raise ChargebackAmountMismatch(
                details={"amount_fen": amount_fen, "charge_amount_fen": charge.amount_fen}
            )
        if (
            dispute_reference
            and Chargeback.objects.filter(dispute_reference=dispute_reference).exists()
        ):
            raise DisputeReferenceConflict(details={"dispute_reference": dispute_reference})
        paid = None
        if charge.status == Charge.Status.SUCCEEDED:
            # Payments marks its payment charged back under the payment's lock, so no refund
            # (finance's, a retry, a risk case's) pays it back again, and a refund racing this
            # one either refuses the chargeback (it came first) or is refused by it.
            try:
                paid = payments.intent_charge_back(
                    purpose=PURPOSE, reference=charge.pk, reason=reason, actor_id=actor_id
                )
            except payments.ChargebackRefundOpen as exc:
                raise ChargebackNotApplicable(details=exc.details) from exc
            if paid is None:  # paid with points, or nothing paid in money
                raise ChargebackNotApplicable(details={"refunds": []})
        audited_transition(
            charge, Charge.Status.CHARGED_BACK, object_type="content_charge", object_id=charge.pk,
            actor_id=actor_id, refused=lambda details: ChargeStateConflict(details=details),
            after={"reason": reason, "source": source, "dispute": dispute_reference},
        )  # fmt: skip
        charge.save(update_fields=["status", "updated_at"])
        assert paid is not None  # the transition accepts only a succeeded charge
        share = min(_share_booked(charge), charge.amount_fen)
        try:
            with transaction.atomic():  # a savepoint: the dispute check above races other charges
                chargeback = Chargeback.objects.create(
                    charge=charge, source=source, reason=reason, dispute_reference=dispute_reference,
                    amount_fen=charge.amount_fen, share_fen=share, recorded_by_id=actor_id,
                )  # fmt: skip
        except IntegrityError as exc:  # the charge is locked: only the dispute index can clash
            raise DisputeReferenceConflict(
                details={"dispute_reference": dispute_reference}
            ) from exc
        cp_payable_ensure(cp_id=charge.cp_id)
        lines = [
            LineSpec(f"clearing:{paid.method}", -charge.amount_fen),
            LineSpec(payable_code(charge.cp_id), share),
            LineSpec("platform:revenue", charge.amount_fen - share),
        ]
        journal_post(
            idempotency_key=f"content:chargeback:{charge.pk}", kind="content.chargeback",
            reference=f"{PURPOSE}:{charge.pk}", lines=[line for line in lines if line.amount_fen],
            description=reason,
        )  # fmt: skip
        entitlements_revoke(
            source=Entitlement.Source.CHARGE, references=[charge.pk], reason="chargeback"
        )
        from apps.content.services.notifications import notify_cp

        notify_cp(charge=charge, event="charge.charged_back", extra={"reason": reason})
        risk.label_record(
            source="chargeback", origin=f"content_chargeback:{chargeback.pk}", reference=charge.pk,
            msisdn=charge.msisdn, cp_id=str(charge.cp_id), product=f"content:{charge.product_id}",
            note=reason,
        )  # fmt: skip
        audit_record(action="content_chargeback.recorded", object_type="content_chargeback",
                     object_id=chargeback.pk, actor_id=actor_id,
                     after={"charge": charge.pk, "amount_fen": charge.amount_fen, "share_fen": share,
                            "source": source, "dispute": dispute_reference})  # fmt: skip
    return chargeback


@dataclass
class ImportResult:
    """A dispute file's outcome: rows recorded now, rows recorded before, rows refused."""

    recorded: int = 0
    repeated: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line number, error code)


DISPUTE_COLUMNS = ("dispute_id", "charge_id", "amount_fen", "reason")


def chargebacks_import(*, text: str, actor_id: int | None) -> ImportResult:
    """Record the chargebacks of a carrier dispute file: CSV with the header
    ``dispute_id,charge_id,amount_fen,reason``, one disputed charge a row. Each row is
    recorded on its own (``chargeback_record``, source ``dispute_file``); a refused row is
    reported with its line and error code and the others still count. Importing the same
    file again records nothing more. A file without that header is refused whole
    (``InvalidArgument``)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != DISPUTE_COLUMNS:
        raise InvalidArgument(details={"header": reader.fieldnames, "expected": DISPUTE_COLUMNS})
    result = ImportResult()
    for row in reader:
        line = reader.line_num
        try:
            amount = int(row["amount_fen"] or "")
        except ValueError:
            result.refused.append((line, "INVALID_ARGUMENT"))
            continue
        before = Chargeback.objects.filter(charge_id=row["charge_id"]).exists()
        try:
            chargeback_record(
                charge_id=row["charge_id"], reason=row["reason"] or "", source="dispute_file",
                actor_id=actor_id, dispute_reference=row["dispute_id"] or "", amount_fen=amount,
            )  # fmt: skip
        except DomainError as exc:
            result.refused.append((line, exc.code))
            continue
        if before:
            result.repeated += 1
        else:
            result.recorded += 1
    return result
