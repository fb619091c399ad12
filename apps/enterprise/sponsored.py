"""Sponsored data (流量统付): a partner company gives a data pack to one of its app's users and
pays for it from its enterprise prepaid account (the one bulk distribution spends).

Exactly once per ``(sponsor, request_id)``: the grant row is unique on it, and it is written
under the sponsor's prepaid advisory lock, so a replay (however concurrent) finds the first
grant and gets it back without a second hold; the same id with another number or pack is
``SponsoredRequestConflict``. Limits per sponsor per month (Asia/Shanghai calendar month), its
agreement's (``SponsorAgreement``, set in the workbench) or else the settings': what it spent
(``SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER``) and how many packs one number got from it
(``SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER``); a failed grant counts in neither.

Delivery is the bulk rows' step (``prepaid_delivery``): the carrier applies the pack under the
grant's own key (``sponsored:<grant id>``) through ``carrier.services.provision_once``, which
asks the carrier by key after a lost answer, so the pack is applied once however often it is
sent. Money: held when granted, earned when delivered, released when the carrier refused
(``billing``). A grant given up while the carrier cannot answer, after a request that may have
reached it, is not released blind: it waits ``unconfirmed`` until the carrier says by key
whether it applied it. The subscriber is texted once the pack is on the line. No transaction is
open during a carrier call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.carrier.errors import CarrierUnavailable
from apps.carrier.services import provisioned_by_key, sms_queue, subscriber_lookup
from apps.catalog.selectors import data_packs_by_code
from apps.core.audit import audit_record
from apps.core.errors import InvalidArgument
from apps.core.phone import normalize_phone
from apps.core.tasks import enqueue_on_commit
from apps.enterprise import billing
from apps.enterprise.errors import (
    SponsoredGrantNotFound,
    SponsoredRequestConflict,
    SponsorMonthlyLimitReached,
    SubscriberMonthlyLimitReached,
    SubscriberNotOnNetwork,
    UnknownDataPack,
)
from apps.enterprise.locks import sponsor_agreement_lock_or_create, sponsored_grant_lock
from apps.enterprise.models import SponsorAgreement, SponsoredGrant
from apps.enterprise.parsing import volume_mb
from apps.enterprise.prepaid_delivery import (
    PrepaidKind,
    prepaid_deliver,
    prepaid_delivered,
    prepaid_fail,
    prepaid_move,
)
from apps.enterprise.selectors import sponsor_limits

logger = logging.getLogger(__name__)
Status = SponsoredGrant.Status
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class GrantResult:
    grant: SponsoredGrant
    created: bool  # False: this request id was granted before, and this is its grant


def _month() -> str:
    return timezone.localtime().strftime("%Y-%m")


def _same_request(grant: SponsoredGrant, *, msisdn: str, pack_code: str) -> GrantResult:
    if (grant.msisdn, grant.pack_code) != (msisdn, pack_code):
        raise SponsoredRequestConflict(details={"requestId": grant.request_id})
    return GrantResult(grant, created=False)


def sponsored_grant(
    *, sponsor_id: int, sponsor_name: str, request_id: str, msisdn: str, pack_code: str
) -> GrantResult:
    """Grant ``pack_code`` to ``msisdn`` at ``sponsor_id``'s expense, once per ``request_id``.

    Refusals, each writing nothing (no grant, no journal, no delivery): ``InvalidPhoneNumber``,
    ``UnknownDataPack``, ``SubscriberNotFound`` (not a line of this carrier's segments),
    ``SubscriberNotOnNetwork`` (another operator's or country's number), ``CarrierRejected``
    (any other refusal of the lookup), ``SponsorMonthlyLimitReached``,
    ``SubscriberMonthlyLimitReached``, ``InsufficientPrepaidBalance``,
    ``SponsoredRequestConflict``; ``CarrierUnavailable`` when the number cannot be checked.

    Limits: the sponsor's agreement's (``selectors.sponsor_limits``, the settings where it sets
    none). One network call (the number's lookup) before the transaction. Locks: the sponsor's
    prepaid advisory lock, which serialises its grants, so two racing at a limit cannot both
    pass; then the ledger. The delivery starts after commit.
    """
    msisdn = normalize_phone(msisdn)
    existing = SponsoredGrant.objects.filter(sponsor_id=sponsor_id, request_id=request_id).first()
    if existing is not None:
        return _same_request(existing, msisdn=msisdn, pack_code=pack_code)
    pack = data_packs_by_code(codes=[pack_code]).get(pack_code)
    if pack is None or volume_mb(pack.volume) <= 0 or pack.price_fen <= 0:
        raise UnknownDataPack(details={"productCode": pack_code})
    if not msisdn.startswith("+86"):
        raise SubscriberNotOnNetwork(details={"operator": None})  # a foreign mobile number
    line = subscriber_lookup(msisdn=msisdn)  # SubscriberNotFound, CarrierUnavailable
    if not line.is_own_network:
        raise SubscriberNotOnNetwork(details={"operator": line.operator})
    month = _month()
    with transaction.atomic():
        billing.prepaid_lock(enterprise_id=sponsor_id)
        existing = SponsoredGrant.objects.filter(
            sponsor_id=sponsor_id, request_id=request_id
        ).first()
        if existing is not None:
            return _same_request(existing, msisdn=msisdn, pack_code=pack_code)
        counted = SponsoredGrant.objects.filter(sponsor_id=sponsor_id, month=month).exclude(
            status=Status.FAILED
        )
        # Read under the lock: a grant committed before this one is counted, and a change of
        # the limits (which takes the same lock) is seen whole.
        limits = sponsor_limits(sponsor_id=sponsor_id)
        spent = counted.aggregate(s=Sum("price_fen"))["s"] or 0
        if spent + pack.price_fen > limits.monthly_limit_fen:
            raise SponsorMonthlyLimitReached(
                details={"limitFen": limits.monthly_limit_fen, "spentFen": spent,
                         "priceFen": pack.price_fen}
            )  # fmt: skip
        received = counted.filter(msisdn=msisdn).count()
        if received >= limits.grants_per_number:
            raise SubscriberMonthlyLimitReached(details={"limit": limits.grants_per_number})
        grant = SponsoredGrant.objects.create(
            sponsor_id=sponsor_id, sponsor_name=sponsor_name[:200], request_id=request_id,
            msisdn=msisdn, pack_code=pack.code, volume_mb=volume_mb(pack.volume),
            validity_days=pack.validity_days, price_fen=pack.price_fen, month=month,
        )  # fmt: skip
        grant.idempotency_key = f"sponsored:{grant.pk}"
        grant.save(update_fields=["idempotency_key"])
        # InsufficientPrepaidBalance here rolls the grant back with the transaction.
        billing.sponsored_hold(enterprise_id=sponsor_id, grant_id=grant.pk,
                               amount_fen=grant.price_fen, reference=grant.idempotency_key)  # fmt: skip
        audit_record(
            action="sponsored.granted", object_type="sponsored_grant", object_id=grant.pk,
            actor_id=sponsor_id,
            after={"request_id": request_id, "msisdn": msisdn, "pack": pack.code, "held_fen": pack.price_fen},
        )  # fmt: skip
        from apps.enterprise.tasks import sponsored_deliver_task

        enqueue_on_commit(sponsored_deliver_task, grant.pk)
    return GrantResult(grant, created=True)


def sponsor_agreement_save(
    *, sponsor_id: int, monthly_limit_fen: int | None, grants_per_number: int | None,
    actor_id: int | None,
) -> SponsorAgreement:  # fmt: skip
    """Set the sponsor's own monthly limits (``None``: the setting's default), with an audit
    event (``sponsored.limits_set``, before and after) when they change. Raises
    ``InvalidArgument`` for a negative limit (nothing written). Locks: the sponsor's prepaid
    advisory lock (so a grant being checked sees the old limits or the new, never half), then
    the agreement row."""
    for name, value in (
        ("monthly_limit_fen", monthly_limit_fen),
        ("grants_per_number", grants_per_number),
    ):
        if value is not None and value < 0:
            raise InvalidArgument(details={name: value})
    with transaction.atomic():
        billing.prepaid_lock(enterprise_id=sponsor_id)
        agreement, _created = sponsor_agreement_lock_or_create(sponsor_id=sponsor_id)
        before = {"monthly_limit_fen": agreement.monthly_limit_fen,
                  "grants_per_number": agreement.grants_per_number}  # fmt: skip
        after = {"monthly_limit_fen": monthly_limit_fen, "grants_per_number": grants_per_number}
        if before != after:
            agreement.monthly_limit_fen, agreement.grants_per_number = (
                monthly_limit_fen,
                grants_per_number,
            )
            agreement.updated_by = actor_id
            agreement.save()
            audit_record(action="sponsored.limits_set", object_type="sponsor_agreement",
                         object_id=sponsor_id, actor_id=actor_id, before=before, after=after)  # fmt: skip
    return agreement


def sponsored_grant_get(*, sponsor_id: int, request_id: str) -> SponsoredGrant:
    """The sponsor's grant under ``request_id`` (``SponsoredGrantNotFound`` otherwise)."""
    grant = SponsoredGrant.objects.filter(sponsor_id=sponsor_id, request_id=request_id).first()
    if grant is None:
        raise SponsoredGrantNotFound()
    return grant


def delivered_text(grant: SponsoredGrant) -> str:
    return _(
        "[CarrierHub] %(sponsor)s has given you %(volume)sMB of data, valid for %(days)s days."
    ) % {"sponsor": grant.sponsor_name, "volume": grant.volume_mb, "days": grant.validity_days}


def _bill(grant: SponsoredGrant) -> billing.PrepaidBill:
    key = grant.idempotency_key  # sponsored:<id>
    return billing.PrepaidBill(
        enterprise_id=grant.sponsor_id, amount_fen=grant.price_fen, reference=key,
        charge_key=f"{key}:charge", release_key=f"{key}:release", kind="sponsored",
    )  # fmt: skip


def _text_the_subscriber(grant: SponsoredGrant) -> None:
    sms_queue(msisdn=grant.msisdn, purpose="notice", text=delivered_text(grant))


GRANT = PrepaidKind[SponsoredGrant](
    lock=lambda grant_id: sponsored_grant_lock(grant_id=grant_id), object_type="sponsored_grant",
    action_prefix="sponsored", carrier_reference=lambda grant: grant.idempotency_key,
    bill=_bill, delivered=_text_the_subscriber,
)  # fmt: skip


def sponsored_deliver(*, grant_id: int) -> str:
    """Apply the grant's pack at the carrier; safe to run any number of times.

    The prepaid delivery step (``prepaid_delivery.prepaid_deliver``). Returns the grant's state:
    ``delivered`` (charged, the subscriber texted), ``failed`` (the carrier refused: the price
    is released), or the final state it was already in. Raises ``CarrierUnavailable`` when the
    outcome is unknown; the grant stays ``delivering`` and a later run, under the same key,
    finds out.
    """
    return prepaid_deliver(GRANT, row_id=grant_id)


def sponsored_fail(*, grant_id: int, reason: str) -> str:
    """Give up on a grant: release its price. Idempotent (a final grant is left alone)."""
    return prepaid_fail(GRANT, row_id=grant_id, reason=reason)


def sponsored_give_up(*, grant_id: int) -> str:
    """Stop sending a grant the carrier could not answer for ``MAX_ATTEMPTS`` runs. Failed and
    released at once only when no request of it can have reached the carrier (refused before
    sending); otherwise the carrier may have applied it with its answer lost, so it goes to
    ``unconfirmed``, its price still held, until the carrier says (``sponsored_confirm``).
    Locks the grant."""
    with transaction.atomic():
        grant = sponsored_grant_lock(grant_id=grant_id)
        if grant.status != Status.DELIVERING:
            return grant.status
        if not grant.maybe_applied:
            return sponsored_fail(grant_id=grant_id, reason=CarrierUnavailable.code)
        prepaid_move(GRANT, grant, Status.UNCONFIRMED, reason=CarrierUnavailable.code)
        grant.save(update_fields=["status", "updated_at"])
    logger.warning(
        "sponsored grant %s: outcome unknown at the carrier; asking before any release", grant_id
    )
    return Status.UNCONFIRMED


def sponsored_confirm(*, grant_id: int) -> str:
    """Settle an ``unconfirmed`` grant by asking the carrier, by key, whether it applied the pack
    (``carrier.services.provisioned_by_key``; nothing is sent again): if it did, the grant is
    delivered, charged and the subscriber texted; if not, it fails (``CARRIER_NOT_APPLIED``)
    and its price is released, once. While the carrier cannot say, the grant stays
    ``unconfirmed`` (a workbench to-do) and the sweep asks again. Network call, then the
    grant's lock."""
    grant = SponsoredGrant.objects.get(pk=grant_id)
    if grant.status != Status.UNCONFIRMED:
        return grant.status
    try:
        applied = provisioned_by_key(msisdn=grant.msisdn, idempotency_key=grant.idempotency_key)
    except CarrierUnavailable as exc:
        SponsoredGrant.objects.filter(pk=grant_id, status=Status.UNCONFIRMED).update(
            error_code=exc.code, updated_at=timezone.now()
        )
        return Status.UNCONFIRMED
    if applied is None:
        return prepaid_fail(GRANT, row_id=grant_id, reason="CARRIER_NOT_APPLIED",
                            from_statuses=[Status.UNCONFIRMED])  # fmt: skip
    return prepaid_delivered(GRANT, row_id=grant_id, request_id=applied.request_id,
                             from_status=Status.UNCONFIRMED, confirmed_by_carrier=True)  # fmt: skip


def sponsored_retry_stuck(*, older_than_seconds: int = 120, limit: int = 500) -> int:
    """Beat: deliver again grants left waiting or in flight (a lost task, a worker that died,
    the carrier down), giving up on those past ``MAX_ATTEMPTS`` whose run again finds the carrier
    unable to answer (``sponsored_give_up``: released, or asked about first when a request may
    have reached the carrier), and ask the carrier about the ``unconfirmed`` ones
    (``sponsored_confirm``). Each grant is re-checked under its lock."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    rows = list(
        SponsoredGrant.objects.filter(
            status__in=[*SponsoredGrant.OPEN, Status.UNCONFIRMED], updated_at__lt=cutoff
        )
        .order_by("updated_at")
        .values_list("pk", "attempts", "status")[:limit]
    )
    for grant_id, attempts, status in rows:
        if status == Status.UNCONFIRMED:
            sponsored_confirm(grant_id=grant_id)
            continue
        try:
            sponsored_deliver(grant_id=grant_id)
        except CarrierUnavailable:
            if attempts >= MAX_ATTEMPTS:
                sponsored_give_up(grant_id=grant_id)
    return len(rows)
