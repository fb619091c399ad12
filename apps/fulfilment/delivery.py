"""One unit of an electronic delivery, by kind: which system applies it and what the recipient is told.

Airtime and data packs go to the BOSS with ``provision_once``; plan changes and add-ons with
``carrier.mobile`` (paid in the mall, so the add-on is not charged to the balance again);
points go to the buyer's points account in the ledger. Every unit carries the key
``fulfilment:<job>:<unit>``, so however often it is sent it is applied once.
"""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.carrier import mobile
from apps.carrier.services import provision_once, provisioned_by_key
from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.fulfilment.models import Delivery
from apps.payments.services import points_grant

Kind = Delivery.Kind


class LineUndeliverable(DomainError):
    """The product lacks what delivery needs (an offer code, a points amount): refund it."""

    code = "LINE_UNDELIVERABLE"
    http_status = 422

    def __init__(self, reason: str):
        super().__init__(reason, details={"reason": reason})
        self.reason = reason


CARRIER_PATHS: dict[str, str] = {Kind.AIRTIME: "recharges", Kind.DATA_PACK: "data-packs"}


def unit_key(job: Delivery, unit: int) -> str:
    return f"fulfilment:{job.pk}:{unit}"


def unit_deliver(job: Delivery, unit: int) -> tuple[str, date | None]:
    """Apply unit ``unit`` of ``job``; return the carrier's request id and effective day.

    Network call for every kind but points; no transaction may be open. Raises
    ``CarrierUnavailable`` when the outcome is unknown, and ``CarrierRejected``,
    ``SubscriberNotFound`` or ``LineUndeliverable`` when refused (nothing applied).
    """
    key, reference = unit_key(job, unit), f"{job.order_number}:{unit}"
    if job.kind == Kind.POINTS:
        if job.user_id is None or job.points <= 0:
            raise LineUndeliverable("POINTS_NOT_CONFIGURED")
        points_grant(
            user_id=job.user_id, points=job.points, key=key, reason=f"购买积分（订单 {reference}）"
        )
        return "", None
    if job.kind in (Kind.PLAN_CHANGE, Kind.ADDON):
        if not job.offer_code:
            raise LineUndeliverable("OFFER_NOT_CONFIGURED")
        if job.kind == Kind.PLAN_CHANGE:
            applied = mobile.plan_change_once(
                msisdn=job.msisdn,
                plan_code=job.offer_code,
                idempotency_key=key,
                reference=reference,
            )
        else:
            applied = mobile.addon_once(
                msisdn=job.msisdn, addon_code=job.offer_code, charge_balance=False,
                idempotency_key=key, reference=reference,
            )  # fmt: skip
        return applied.request_id, applied.effective_from
    if not job.msisdn:
        raise LineUndeliverable("NO_RECIPIENT")
    if job.kind == Kind.AIRTIME and job.amount_fen <= 0:
        raise LineUndeliverable("FACE_VALUE_NOT_CONFIGURED")
    body: dict[str, object] = {"msisdn": job.msisdn, "reference": reference}
    if job.kind == Kind.AIRTIME:
        body["amount_fen"] = job.amount_fen
    else:
        body.update(volume_mb=job.volume_mb, validity_days=job.validity_days)
    done = provision_once(kind=CARRIER_PATHS[job.kind], body=body, idempotency_key=key)
    return done.request_id, None


def unit_applied(job: Delivery, unit: int) -> tuple[str, date | None] | None:
    """Whether the carrier applied unit ``unit`` of ``job`` (asked by its key, nothing sent):
    its request id and effective day if it did, ``None`` if it applied nothing under the key.
    For a delivery whose requests may have reached the carrier with their answers lost.
    Network call; raises ``CarrierUnavailable`` while the carrier cannot say."""
    key = unit_key(job, unit)
    if job.kind in (Kind.PLAN_CHANGE, Kind.ADDON):
        offer = mobile.offer_applied_by_key(key, msisdn=job.msisdn)
        return None if offer is None else (offer.request_id, offer.effective_from)
    found = provisioned_by_key(msisdn=job.msisdn, idempotency_key=key)
    return None if found is None else (found.request_id, None)


def delivered_text(job: Delivery) -> str:
    """The SMS the recipient gets once every unit is applied."""
    order = job.order_number
    if job.kind == Kind.PLAN_CHANGE:
        when = date_format(job.effective_from, "DATE_FORMAT") if job.effective_from else ""
        return _("[CarrierHub] Your plan changes to %(plan)s on %(date)s (order %(order)s).") % {
            "plan": job.label or job.offer_code,
            "date": when,
            "order": order,
        }
    if job.kind == Kind.ADDON:
        return _("[CarrierHub] %(addon)s has been added to your number (order %(order)s).") % {
            "addon": job.label or job.offer_code,
            "order": order,
        }
    if job.kind == Kind.POINTS:
        return _(
            "[CarrierHub] %(points)s points have been credited to your account (order %(order)s)."
        ) % {"points": job.points * job.units, "order": order}
    what = (
        format_fen(job.amount_fen * job.units)
        if job.kind == Kind.AIRTIME
        else f"{job.volume_mb * job.units}MB"
    )
    return _("[CarrierHub] %(what)s has been delivered to your number (order %(order)s).") % {
        "what": what,
        "order": order,
    }
