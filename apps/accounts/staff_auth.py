"""Staff sign-in to the workbench: password, then an authenticator code (TOTP via pyotp) or a
one-time recovery code; enrolment; and the audit trail of every attempt."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from apps.accounts import locks
from apps.accounts.models import StaffRecoveryCode, StaffTotpDevice, User
from apps.core.audit import audit_record
from apps.core.crypto import decrypt_text, encrypt_text, keyed_hash
from apps.core.errors import ServiceUnavailable, TooManyRequests
from apps.core.redis import get_redis

ISSUER = "CarrierHub"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class StaffPasswordCheck:
    user_id: int
    enrolled: bool


def staff_password_check(*, phone: str, password: str) -> StaffPasswordCheck | None:
    """The active staff member with this number and password, or None (no detail why)."""
    user = authenticate(None, phone=phone, password=password)
    if user is None or not user.is_staff:
        return None
    enrolled = StaffTotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
    return StaffPasswordCheck(user_id=user.pk, enrolled=enrolled)


def totp_enrol_start(*, user_id: int) -> str:
    """The secret to show as a QR code: the pending device's, or a new one.

    A confirmed device is never replaced here (a superuser resets it: ``totp_reset``).
    """
    with transaction.atomic():
        device = locks.totp_device_lock(user_id=user_id)
        if device is not None and device.confirmed_at is not None:
            raise ValueError("already enrolled")
        if device is None:
            device = StaffTotpDevice.objects.create(
                user_id=user_id, secret_encrypted=encrypt_text(pyotp.random_base32())
            )
    return decrypt_text(device.secret_encrypted)


def totp_secret(*, user_id: int) -> str:
    return decrypt_text(StaffTotpDevice.objects.get(user_id=user_id).secret_encrypted)


def totp_provisioning_uri(*, user_id: int) -> str:
    user = User.objects.get(pk=user_id)
    return pyotp.TOTP(totp_secret(user_id=user_id)).provisioning_uri(
        name=user.phone, issuer_name=ISSUER
    )


def _totp_step(device: StaffTotpDevice, code: str) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), if any."""
    totp = pyotp.TOTP(decrypt_text(device.secret_encrypted))
    now = timezone.now()
    for offset in (0, -1, 1):
        moment = now.timestamp() + offset * totp.interval
        if secrets.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


def totp_enrol_confirm(*, user_id: int, code: str) -> list[str] | None:
    """Confirm the pending device with its first code; return the recovery codes (shown once,
    stored hashed), or None when the code is wrong. Locks the device row."""
    with transaction.atomic():
        device = locks.totp_device_lock(user_id=user_id)
        if device is None or device.confirmed_at is not None:
            return None
        step = _totp_step(device, code.strip())
        if step is None:
            return None
        device.confirmed_at = timezone.now()
        device.last_step = step
        device.save(update_fields=["confirmed_at", "last_step"])
        codes = _recovery_codes_replace(user_id)
        audit_record(action="staff.totp_enrolled", object_type="user", object_id=user_id,
                     actor_id=user_id)  # fmt: skip
    return codes


def _recovery_codes_replace(user_id: int) -> list[str]:
    StaffRecoveryCode.objects.filter(user_id=user_id).delete()
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    StaffRecoveryCode.objects.bulk_create(
        StaffRecoveryCode(user_id=user_id, code_hash=_recovery_hash(user_id, code))
        for code in codes
    )
    return codes


def _recovery_hash(user_id: int, code: str) -> str:
    return keyed_hash(f"{user_id}:{code.strip().lower()}", purpose="staff-recovery")


def second_factor_verify(*, user_id: int, code: str) -> bool:
    """Check an authenticator code (each accepted once) or an unused recovery code (used up).

    Locks the device row, so two requests with the same code cannot both pass.
    """
    code = code.strip()
    if not code:
        return False
    with transaction.atomic():
        device = locks.totp_device_lock(user_id=user_id, confirmed=True)
        if device is None:
            return False
        if code.isdigit():
            step = _totp_step(device, code)
            if step is None or step <= device.last_step:
                return False
            device.last_step = step
            device.save(update_fields=["last_step"])
            return True
        used = StaffRecoveryCode.objects.filter(
            user_id=user_id, code_hash=_recovery_hash(user_id, code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            audit_record(action="staff.recovery_code_used", object_type="user",
                         object_id=user_id, actor_id=user_id)  # fmt: skip
        return bool(used)


class SecondFactorLocked(TooManyRequests):
    code = "SECOND_FACTOR_LOCKED"
    default_message = _("Too many wrong codes: signing in is locked for a while. Try again later.")


def _wrong_code_limits(user_id: int, ip: str | None) -> list[tuple[str, int, str, str]]:
    """(Redis key, limit, audited object type, object id) of each count of wrong codes."""
    limits = [
        (f"rl:{{staff2fa}}:user:{user_id}", settings.STAFF_CODE_MAX_WRONG, "user", str(user_id))
    ]
    if ip:
        limits.append(
            (f"rl:{{staff2fa}}:ip:{ip}", settings.STAFF_CODE_MAX_WRONG_PER_IP, "address", ip)
        )
    return limits


def second_factor_check(*, user_id: int, code: str, ip: str | None) -> bool:
    """``second_factor_verify`` behind a lock-out: after ``STAFF_CODE_MAX_WRONG`` wrong codes
    for one staff member, or ``STAFF_CODE_MAX_WRONG_PER_IP`` from one address, within
    ``STAFF_CODE_LOCK_SECONDS``, every code is refused (``SecondFactorLocked``, 429) until the
    window has passed; reaching a limit is audited (``staff.second_factor_locked``). Fails
    closed (``ServiceUnavailable``) when Redis is down: no code is tried without its count."""
    window_ms = settings.STAFF_CODE_LOCK_SECONDS * 1000
    limits = _wrong_code_limits(user_id, ip)
    try:
        client = get_redis()
        now_ms = int(time.time() * 1000)
        for key, limit, _type, _id in limits:
            client.zremrangebyscore(key, "-inf", now_ms - window_ms)
            if client.zcard(key) >= limit:
                oldest = client.zrange(key, 0, 0, withscores=True)
                retry_ms = int(oldest[0][1]) + window_ms - now_ms if oldest else window_ms
                raise SecondFactorLocked(retry_after=max(1, retry_ms // 1000))
        if second_factor_verify(user_id=user_id, code=code):
            return True
        for key, limit, object_type, object_id in limits:
            client.zadd(key, {uuid.uuid4().hex: now_ms})
            client.pexpire(key, window_ms)
            if client.zcard(key) == limit:
                audit_record(action="staff.second_factor_locked", object_type=object_type,
                             object_id=object_id, after={"ip": ip, "user_id": user_id,
                                                         "seconds": settings.STAFF_CODE_LOCK_SECONDS})  # fmt: skip
    except RedisError as exc:
        raise ServiceUnavailable() from exc
    return False


def totp_reset(*, user_id: int, actor_id: int) -> bool:
    """Forget a staff member's authenticator and recovery codes (a lost phone): they enrol
    again at their next sign-in. For superusers, from the workbench."""
    with transaction.atomic():
        deleted, _ = StaffTotpDevice.objects.filter(user_id=user_id).delete()
        StaffRecoveryCode.objects.filter(user_id=user_id).delete()
        if deleted:
            audit_record(action="staff.totp_reset", object_type="user", object_id=user_id,
                         actor_id=actor_id)  # fmt: skip
    return bool(deleted)


def totp_code_now(*, user_id: int) -> str:
    """The current code of a confirmed device (the demo's ``manage.py totp_code``)."""
    return pyotp.TOTP(totp_secret(user_id=user_id)).now()


def totp_enrol_with_secret(*, user_id: int, secret: str) -> None:
    """Give a staff member a confirmed device with a known secret (the demo seed only)."""
    StaffTotpDevice.objects.update_or_create(
        user_id=user_id,
        defaults={"secret_encrypted": encrypt_text(secret), "confirmed_at": timezone.now()},
    )


def staff_sign_in_record(
    *, phone: str, user_id: int | None, ok: bool, reason: str, ip: str | None, user_agent: str
) -> None:
    """One audit event per workbench sign-in attempt, with the address and the user agent."""
    audit_record(
        action="staff.signed_in" if ok else "staff.sign_in_failed",
        object_type="user",
        object_id=user_id if user_id is not None else phone[:20],
        actor_id=user_id if ok else None,
        actor_label=phone,
        after={"ip": ip, "user_agent": user_agent[:256], "reason": reason},
    )
