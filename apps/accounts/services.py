"""Account writes: SMS one-time codes, sign-in and registration, real-name identity, API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import locks
from apps.accounts.errors import (
    AccountDisabled,
    IdNumberInUse,
    OtpAlreadyUsed,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpExpired,
    OtpInvalid,
    OtpIpLimit,
    OtpNotRequested,
    OtpNumberLimit,
    RealNameAlreadyVerified,
    WechatAlreadyBound,
    WechatBoundElsewhere,
)
from apps.accounts.models import (
    ApiToken,
    OtpChallenge,
    RealNameIdentity,
    Role,
    User,
    WechatBinding,
)
from apps.accounts.token_cache import (
    token_cache_get,
    token_cache_invalidate,
    token_cache_put,
    token_cache_touched,
    token_cache_user,
)
from apps.accounts.validators import (
    mask_id_number,
    normalize_id_number,
    normalize_phone,
    normalize_real_name,
)
from apps.carrier.services import sms_queue
from apps.core.audit import audit_record
from apps.core.crypto import encrypt_text, keyed_hash
from apps.core.errors import DomainError, ServiceUnavailable
from apps.core.locks import advisory_xact_lock
from apps.core.ratelimit import RateLimit, rate_hit_all
from apps.risk import services as risk

TOKEN_PREFIX = "chk_"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True)
class OtpIssued:
    """What the caller may tell the user; ``code`` is for the SMS and tests, never a response."""

    phone: str
    code: str
    expires_at: datetime
    resend_after_seconds: int


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    phone: str
    created: bool


def _otp_hash(phone: str, code: str) -> str:
    return keyed_hash(f"{phone}:{code}", purpose="otp")


def _send_limits(phone: str, ip: str | None) -> None:
    """Count this send against the number's and the IP's hourly limits, both or neither."""
    limits = [RateLimit(f"otp:phone:{phone}", settings.OTP_MAX_SENDS_PER_NUMBER_PER_HOUR, 3600)]
    if ip:
        limits.append(RateLimit(f"otp:ip:{ip}", settings.OTP_MAX_SENDS_PER_IP_PER_HOUR, 3600))
    try:
        full, retry_after = rate_hit_all(limits)
    except redis.RedisError as exc:
        # Sending codes costs money and invites abuse: without the counters, refuse.
        raise ServiceUnavailable() from exc
    if full is not None:
        error = OtpNumberLimit if full.key.startswith("otp:phone:") else OtpIpLimit
        raise error(retry_after=retry_after)


def otp_request(
    *, phone: str, ip: str | None, purpose: str = OtpChallenge.Purpose.LOGIN
) -> OtpIssued:
    """Send a fresh six-digit code to ``phone`` by SMS.

    Refuses, in this order: a malformed number; risk control (``RiskBlocked``: a listed
    number or IP, a cap); a resend inside the cooldown; more than the
    hourly sends for the number or for the IP. A new code supersedes earlier ones. Takes an
    advisory lock on the number so that two concurrent requests cannot both pass the cooldown.
    """
    phone = normalize_phone(phone)
    risk.enforce(event=risk.Event(kind=risk.Kind.OTP_REQUEST, msisdn=phone, ip=ip or ""))
    now = timezone.now()
    with transaction.atomic():
        advisory_xact_lock("otp", f"{purpose}:{phone}")
        last = (
            OtpChallenge.objects.filter(phone=phone, purpose=purpose)
            .order_by("-created_at")
            .first()
        )
        cooldown = timedelta(seconds=settings.OTP_RESEND_COOLDOWN_SECONDS)
        if last is not None and now < last.created_at + cooldown:
            wait = int((last.created_at + cooldown - now).total_seconds()) + 1
            raise OtpCooldown(retry_after=wait)
        _send_limits(phone, ip)
        OtpChallenge.objects.filter(
            phone=phone, purpose=purpose, consumed_at__isnull=True, superseded=False
        ).update(superseded=True)
        code = f"{secrets.randbelow(1_000_000):06d}"
        minutes = settings.OTP_TTL_SECONDS // 60
        text = _("[CarrierHub] Your verification code is %(code)s, valid for %(minutes)d minutes. "
                 "Do not share it with anyone.") % {"code": code, "minutes": minutes}  # fmt: skip
        challenge = OtpChallenge.objects.create(
            phone=phone,
            purpose=purpose,
            code_hash=_otp_hash(phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
            ip=ip,
        )
        challenge.sms_id = sms_queue(
            msisdn=phone, text=text, purpose="otp", preview=text.replace(code, "******")
        )
        challenge.save(update_fields=["sms_id"])
    return OtpIssued(
        phone=phone,
        code=code,
        expires_at=challenge.expires_at,
        resend_after_seconds=settings.OTP_RESEND_COOLDOWN_SECONDS,
    )


def otp_sign_in(*, phone: str, code: str, purpose: str = OtpChallenge.Purpose.LOGIN) -> SignedIn:
    """Check ``code`` against the latest code sent to ``phone``; register the number on first use.

    A wrong code counts against the code's tries and that count is committed even though the
    call fails. Locks the challenge row, so one code signs in once.
    """
    phone = normalize_phone(phone)
    code = (code or "").strip()
    if purpose == OtpChallenge.Purpose.LOGIN:
        risk.enforce(event=risk.Event(kind=risk.Kind.SIGN_IN, msisdn=phone))
    now = timezone.now()
    failure: DomainError | None = None
    with transaction.atomic():
        challenge = locks.otp_challenge_lock_latest(phone=phone, purpose=purpose)
        if challenge is None:
            # The latest code was used already (a second tap, or a code typed twice): say so,
            # rather than that no code was ever sent.
            latest = (
                OtpChallenge.objects.filter(phone=phone, purpose=purpose, superseded=False)
                .order_by("-created_at")
                .values_list("consumed_at", flat=True)
                .first()
            )
            raise OtpAlreadyUsed() if latest is not None else OtpNotRequested()
        if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
            raise OtpAttemptsExceeded()
        if now >= challenge.expires_at:
            raise OtpExpired()
        if not hmac.compare_digest(challenge.code_hash, _otp_hash(phone, code)):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            left = settings.OTP_MAX_ATTEMPTS - challenge.attempts
            failure = (
                OtpAttemptsExceeded() if left <= 0 else OtpInvalid(details={"attempts_left": left})
            )
        else:
            challenge.consumed_at = now
            challenge.save(update_fields=["consumed_at"])
            user, created = User.objects.get_or_create(phone=phone)
            if not user.is_active:
                raise AccountDisabled()
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get(name=Role.CONSUMER))
                audit_record(
                    action="user.registered", object_type="user", object_id=user.pk,
                    actor_id=user.pk, after={"phone": phone},
                )  # fmt: skip
            user.last_login = now
            user.save(update_fields=["last_login"])
    if failure is not None:
        raise failure
    return SignedIn(user_id=user.pk, phone=phone, created=created)


def user_ensure_for_phone(*, phone: str) -> int:
    """The user id of a subscriber's number, registering it as a consumer on first use (a
    partner charging the subscriber's phone bill); the same caps then count every charge.

    Idempotent: the unique phone decides a race, and only the winner is audited.
    """
    phone = normalize_phone(phone)
    with transaction.atomic():
        user, created = User.objects.get_or_create(phone=phone)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=Role.CONSUMER))
            audit_record(
                action="user.registered", object_type="user", object_id=user.pk,
                after={"phone": phone, "by": "carrier_billing"},
            )  # fmt: skip
    return user.pk


def real_name_submit(*, user_id: int, name: str, id_number: str) -> RealNameIdentity:
    """Record the user's real-name identity once the ID's region, birth date and checksum hold.

    Locks the user row; an identity number can belong to one account only.
    """
    name = normalize_real_name(name)
    id_number = normalize_id_number(id_number)
    id_hash = keyed_hash(id_number, purpose="id-number")
    with transaction.atomic():
        user = locks.user_lock(user_id)
        # Two accounts registering one ID number at once: the second waits, then sees it.
        advisory_xact_lock("id-number", id_hash)
        if RealNameIdentity.objects.filter(user=user).exists():
            raise RealNameAlreadyVerified()
        if RealNameIdentity.objects.filter(id_number_hash=id_hash).exists():
            raise IdNumberInUse()
        identity = RealNameIdentity.objects.create(
            user=user,
            name=name,
            id_number_encrypted=encrypt_text(id_number),
            id_number_hash=id_hash,
            id_number_masked=mask_id_number(id_number),
            method=RealNameIdentity.Method.CHECKSUM,
        )
        audit_record(
            action="user.real_name_verified",
            object_type="user",
            object_id=user.pk,
            actor_id=user.pk,
            after={"id_number": identity.id_number_masked, "method": identity.method},
        )
    return identity


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user_id: int, name: str = "") -> tuple[str, ApiToken]:
    """Create a bearer token; returns the token itself (shown once) and its record."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user_id=user_id,
        name=name[:64],
        prefix=token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
        key_hash=_token_hash(token),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return token, record


def api_token_authenticate(*, token: str) -> User | None:
    """The active user holding an unexpired, unrevoked ``token``, or ``None``.

    A token read in the last ``API_TOKEN_CACHE_SECONDS`` comes from this process's memory
    (``apps/accounts/token_cache.py``); a revocation is published through Redis and effective
    from the next request after its COMMIT.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    key_hash = _token_hash(token)
    now = timezone.now()
    entry, generation = token_cache_get(key_hash)
    if entry is not None and entry.expires_at > now:
        if entry.last_used_at is None or now - entry.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=entry.token_id).update(last_used_at=now)
            token_cache_touched(key_hash, now)
        return token_cache_user(entry)
    record = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if record is None or not record.user.is_active:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        # Throttled so that a busy token does not write on every request.
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    token_cache_put(
        key_hash, token_id=record.pk, user=record.user, expires_at=record.expires_at,
        last_used_at=record.last_used_at, generation=generation,
    )  # fmt: skip
    return record.user


def api_token_revoke(*, token: str) -> bool:
    """Revoke ``token`` at once; return whether an active token was revoked."""
    record = (
        ApiToken.objects.filter(key_hash=_token_hash(token)).values_list("pk", flat=True).first()
    )
    return record is not None and api_tokens_revoke(token_ids=[record]) == 1


def api_tokens_revoke(*, token_ids: list[int], actor_id: int | None = None) -> int:
    """Revoke tokens by id (the workbench's action); audited; returns how many were active."""
    now = timezone.now()
    with transaction.atomic():
        active = list(locks.api_tokens_lock_active(token_ids).values_list("pk", "user_id"))
        ApiToken.objects.filter(pk__in=[pk for pk, _ in active]).update(revoked_at=now)
        if active:
            token_cache_invalidate()
        for pk, user_id in active:
            audit_record(
                action="api_token.revoked", object_type="api_token", object_id=pk,
                actor_id=actor_id if actor_id is not None else user_id, after={"user_id": user_id},
            )  # fmt: skip
    return len(active)


def user_role_grant(*, user_id: int, role: str, actor_id: int | None = None) -> bool:
    """Give the user a role (its auth group); audited. Idempotent: ``False`` if already held.

    Called by the apps that decide a role (the gateway grants ``partner`` on approval) inside
    their own transaction, so the grant commits with the decision.
    """
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    user = User.objects.get(pk=user_id)
    group = Group.objects.get(name=role)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    audit_record(
        action="user.role_granted", object_type="user", object_id=user_id,
        actor_id=actor_id, after={"role": role},
    )  # fmt: skip
    return True


def sessions_clear_expired() -> int:
    """Delete expired sign-in sessions (Celery beat, daily; Django never does it by itself).
    Returns how many went."""
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


# The address book's writes live in their own module (addresses.py).
from apps.accounts.addresses import (  # noqa: E402, F401
    AddressInput,
    address_create,
    address_delete,
    address_set_default,
    address_update,
)


def wechat_bind(*, user_id: int, openid: str, rebind: bool = False) -> WechatBinding:
    """Bind ``openid`` to the user (who proved the number by SMS code). One openid to one user:
    an openid bound to someone else is refused, and so is a user already bound to another
    openid unless ``rebind`` (an explicit choice) replaces it. Binding the same pair again is
    a no-op. Audited."""
    openid = openid.strip()
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user_id)
        existing = WechatBinding.objects.select_for_update().filter(openid=openid).first()
        if existing is not None:
            if existing.user_id != user_id:
                raise WechatBoundElsewhere()
            return existing
        mine = WechatBinding.objects.select_for_update().filter(user_id=user_id).first()
        if mine is not None and not rebind:
            raise WechatAlreadyBound()
        before = {"openid": mine.openid} if mine is not None else None
        if mine is not None:
            mine.delete()
        binding = WechatBinding.objects.create(user_id=user_id, openid=openid)
        audit_record(
            action="user.wechat_bound", object_type="user", object_id=user_id, actor_id=user_id,
            before=before, after={"openid": openid},
        )  # fmt: skip
    return binding


def wechat_bind_precheck(*, phone: str, openid: str, rebind: bool = False) -> None:
    """Refuse, before an SMS code is spent on it, a binding ``wechat_bind`` would refuse."""
    phone = normalize_phone(phone)
    owner = WechatBinding.objects.filter(openid=openid.strip()).values_list(
        "user__phone", flat=True
    )
    if owner and owner[0] != phone:
        raise WechatBoundElsewhere()
    mine = WechatBinding.objects.filter(user__phone=phone).values_list("openid", flat=True)
    if mine and mine[0] != openid.strip() and not rebind:
        raise WechatAlreadyBound()


def wechat_unbind(*, user_id: int) -> bool:
    with transaction.atomic():
        deleted, _rows = WechatBinding.objects.filter(user_id=user_id).delete()
        if deleted:
            audit_record(
                action="user.wechat_unbound", object_type="user", object_id=user_id,
                actor_id=user_id,
            )  # fmt: skip
    return bool(deleted)
