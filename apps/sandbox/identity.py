"""Real-name checks and opening new SIM lines, as the carrier's BOSS and the ID register answer.

MIIT allows one person at most ``MAX_NUMBERS_PER_ID`` numbers across all carriers; the check
counts lines opened here plus those a test or an operator recorded at other carriers.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.models import IdentityRecord, SimRegistration, Subscriber
from apps.sandbox.subscribers import OWN_OPERATOR, msisdn_normalize, operator_of

MAX_NUMBERS_PER_ID = 5
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_hash(id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


def _valid_id(raw: object) -> str:
    """An 18-character resident ID whose GB 11643 check character holds."""
    text = str(raw or "").strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise invalid_argument("id_number must be an 18-character resident ID.")
    check = "10X98765432"[sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS, strict=True)) % 11]
    if check != text[17]:
        raise invalid_argument("id_number fails its check character.")
    return text


def _name(raw: object) -> str:
    name = " ".join(str(raw or "").split())
    if not 1 <= len(name) <= 30:
        raise invalid_argument("name must be 1..30 characters.")
    return name


def _check(name: str, id_hash: str) -> dict[str, Any]:
    record = IdentityRecord.objects.filter(id_number_hash=id_hash).first()
    matched = record is None or record.name == name
    registered = SimRegistration.objects.filter(id_number_hash=id_hash).count()
    registered += record.other_numbers if record else 0
    return {"matched": matched, "numbers_registered": registered, "limit": MAX_NUMBERS_PER_ID}


def identity_verify(*, payload: dict[str, Any]) -> dict[str, Any]:
    """Whether the name owns the ID, and how many numbers the ID already holds. Reads only."""
    return _check(_name(payload.get("name")), _id_hash(_valid_id(payload.get("id_number"))))


def identity_put(*, raw_id_number: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Record what the register knows of an ID (a fixture for tests and the demo)."""
    id_hash = _id_hash(_valid_id(raw_id_number))
    other = payload.get("other_numbers", 0)
    if not isinstance(other, int) or not 0 <= other <= 100:
        raise invalid_argument("other_numbers must be 0..100.")
    IdentityRecord.objects.update_or_create(
        id_number_hash=id_hash,
        defaults={"name": _name(payload.get("name")), "other_numbers": other},
    )
    return {"id_number_hash": id_hash, "other_numbers": other}


def _body(row: SimRegistration) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "status": "active",
        "msisdn": row.msisdn,
        "reference": row.reference,
    }


def sim_activate(*, idempotency_key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Open the line of a new SIM card under its owner, once per key.

    Refuses a name that does not own the ID, an ID that already holds the most numbers allowed,
    and a number that is already somebody's line.
    """
    if not 0 < len(idempotency_key) <= 255:
        raise invalid_argument("An Idempotency-Key header of 1..255 characters is required.")
    unknown = set(payload) - {"msisdn", "name", "id_number", "reference", "province", "city"}
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(sorted(unknown))}.")
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    existing = SimRegistration.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise SandboxError(
                409, "IDEMPOTENCY_CONFLICT", "This Idempotency-Key was used with another body."
            )
        return 200, _body(existing)
    msisdn = msisdn_normalize(str(payload.get("msisdn", "")))
    if operator_of(msisdn) != OWN_OPERATOR:
        raise invalid_argument(f"{msisdn} is not in this carrier's number segments.")
    name = _name(payload.get("name"))
    id_hash = _id_hash(_valid_id(payload.get("id_number")))
    try:
        with transaction.atomic():
            # One owner's activations one at a time, so that the limit holds under concurrency.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sim-id:{id_hash}"])
            check = _check(name, id_hash)
            if not check["matched"]:
                raise SandboxError(422, "IDENTITY_MISMATCH", "The name does not own this ID.")
            if check["numbers_registered"] >= MAX_NUMBERS_PER_ID:
                raise SandboxError(
                    422,
                    "ID_NUMBER_LIMIT_REACHED",
                    "This ID already holds the most numbers allowed.",
                )
            if Subscriber.objects.filter(msisdn=msisdn).exists():
                raise SandboxError(409, "NUMBER_IN_USE", "This number is already a subscriber.")
            row = SimRegistration.objects.create(
                request_id="SA" + secrets.token_hex(10), idempotency_key=idempotency_key,
                request_hash=request_hash, msisdn=msisdn, owner_name=name, id_number_hash=id_hash,
                reference=str(payload.get("reference", ""))[:64],
            )  # fmt: skip
            Subscriber.objects.create(
                msisdn=msisdn,
                province=str(payload.get("province") or "未知")[:32],
                city=str(payload.get("city") or "未知")[:32],
                real_name_verified=True,
            )
    except IntegrityError:
        existing = SimRegistration.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise SandboxError(
                409, "NUMBER_IN_USE", "This number is already a subscriber."
            ) from None
        return 200, _body(existing)
    return 201, _body(row)


def sim_activation_by_key(*, idempotency_key: str) -> dict[str, Any]:
    row = SimRegistration.objects.filter(idempotency_key=idempotency_key).first()
    if row is None:
        raise not_found("Nothing was applied under this key.")
    return _body(row)
