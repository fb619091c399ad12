"""The accounts app's row locks. The user comes first in the global order (user → order →
stock → payment → ledger, see apps/core/locks.py); a user's challenges and tokens right after."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import ApiToken, OtpChallenge, StaffTotpDevice, User


def user_lock(user_id: int) -> User:
    """Lock one user (``User.DoesNotExist`` when there is none)."""
    return User.objects.select_for_update().get(pk=user_id)


def otp_challenge_lock_latest(*, phone: str, purpose: str) -> OtpChallenge | None:
    """Lock the newest open challenge of ``phone`` for ``purpose`` (None when there is none)."""
    return (
        OtpChallenge.objects.select_for_update()
        .filter(phone=phone, purpose=purpose, consumed_at__isnull=True, superseded=False)
        .order_by("-created_at")
        .first()
    )


def api_tokens_lock_active(token_ids: list[int]) -> QuerySet[ApiToken]:
    """The active tokens among ``token_ids``, locked in primary-key order."""
    return (
        ApiToken.objects.select_for_update()
        .filter(pk__in=token_ids, revoked_at__isnull=True)
        .order_by("pk")
    )


def user_lock_if_exists(user_id: int) -> User | None:
    """Lock one user, or None when there is none."""
    return User.objects.select_for_update().filter(pk=user_id).first()


def totp_device_lock(*, user_id: int, confirmed: bool | None = None) -> StaffTotpDevice | None:
    """Lock a staff member's authenticator row (only a confirmed or a pending one when
    ``confirmed`` says so); None when there is none."""
    qs = StaffTotpDevice.objects.select_for_update().filter(user_id=user_id)
    if confirmed is not None:
        qs = qs.filter(confirmed_at__isnull=not confirmed)
    return qs.first()
