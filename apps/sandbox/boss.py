"""The BOSS: top-ups, data packs, plan changes and add-ons, applied once per idempotency key,
queryable by key.

With the fault knob "lost", a request is applied and its answer comes too late: the caller
must ask ``by-key`` before retrying, exactly as it must with the real network.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.db import IntegrityError, transaction

from apps.sandbox import mobile
from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.models import Provisioning, Subscriber

_FIELDS: dict[str, set[str]] = {
    Provisioning.Kind.RECHARGE: {"msisdn", "amount_fen", "reference"},
    Provisioning.Kind.DATA_PACK: {"msisdn", "volume_mb", "validity_days", "reference"},
    Provisioning.Kind.PLAN_CHANGE: {"msisdn", "plan_code", "reference"},
    Provisioning.Kind.ADDON: {"msisdn", "addon_code", "charge", "reference"},
}


def _body(row: Provisioning) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "kind": row.kind,
        "status": "succeeded",
        "msisdn": row.msisdn,
        "amount_fen": row.amount_fen,
        "volume_mb": row.volume_mb,
        "validity_days": row.validity_days,
        "reference": row.reference,
        "offer_code": row.offer_code,
        "effective_from": row.effective_from.isoformat() if row.effective_from else None,
        "fee_fen": row.fee_fen,
    }


def _positive(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or value <= 0 or value > 10_000_000:
        raise invalid_argument(f"{name} must be a positive integer.")
    return value


def provision(
    *, kind: str, idempotency_key: str, payload: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Apply a top-up or a data pack once; a repeat with the same body returns the first answer."""
    if not 0 < len(idempotency_key) <= 255:
        raise invalid_argument("An Idempotency-Key header of 1..255 characters is required.")
    unknown = set(payload) - _FIELDS[kind]
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(sorted(unknown))}.")
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    existing = Provisioning.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise SandboxError(
                409, "IDEMPOTENCY_CONFLICT", "This Idempotency-Key was used with another body."
            )
        return 200, _body(existing)
    msisdn = str(payload.get("msisdn", ""))
    amount = _positive(payload, "amount_fen") if kind == Provisioning.Kind.RECHARGE else 0
    volume = _positive(payload, "volume_mb") if kind == Provisioning.Kind.DATA_PACK else 0
    days = _positive(payload, "validity_days") if kind == Provisioning.Kind.DATA_PACK else 0
    try:
        with transaction.atomic():
            subscriber = Subscriber.objects.select_for_update().filter(msisdn=msisdn).first()
            if subscriber is None:
                raise SandboxError(404, "SUBSCRIBER_NOT_FOUND", "Not a subscriber of this carrier.")
            if subscriber.status != Subscriber.Status.ACTIVE:
                raise SandboxError(403, "SUBSCRIBER_NOT_ACTIVE", "The line is suspended or closed.")
            request_id = "BO" + secrets.token_hex(10)
            offer: dict[str, Any] = {}
            if kind == Provisioning.Kind.PLAN_CHANGE:
                offer = mobile.plan_change_apply(subscriber, payload=payload, request_id=request_id)
            elif kind == Provisioning.Kind.ADDON:
                offer = mobile.addon_apply(subscriber, payload=payload, request_id=request_id)
            elif volume:
                mobile.data_pack_grant(
                    subscriber, volume_mb=volume, validity_days=days, request_id=request_id
                )
            row = Provisioning.objects.create(
                request_id=request_id, idempotency_key=idempotency_key, request_hash=request_hash,
                kind=kind, msisdn=msisdn, amount_fen=amount, volume_mb=volume, validity_days=days,
                reference=str(payload.get("reference", ""))[:64], **offer,
            )  # fmt: skip
            if amount:
                subscriber.balance_fen += amount
                subscriber.save(update_fields=["balance_fen", "updated_at"])
                mobile.topup_record(subscriber, amount_fen=amount, request_id=request_id)
    except IntegrityError:
        return 200, _body(Provisioning.objects.get(idempotency_key=idempotency_key))
    return 201, _body(row)


def provisioning_by_key(*, idempotency_key: str) -> dict[str, Any]:
    row = Provisioning.objects.filter(idempotency_key=idempotency_key).first()
    if row is None:
        raise not_found("Nothing was applied under this key.")
    return _body(row)
