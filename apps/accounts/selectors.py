"""Account reads, returned as plain data for pages, the API and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.accounts.addresses import AddressView, address_get, addresses_for  # noqa: F401
from apps.accounts.current import request_user_phone
from apps.accounts.models import RealNameIdentity, User, WechatBinding
from apps.accounts.validators import display_phone


@dataclass(frozen=True)
class RealNameView:
    masked_name: str
    id_number_masked: str
    method: str
    verified_at: str


@dataclass(frozen=True)
class UserProfile:
    id: int
    phone: str
    phone_display: str
    nickname: str
    roles: list[str]
    is_staff: bool
    real_name: RealNameView | None


def user_phone(*, user_id: int) -> str:
    """The user's number ("" when there is no such user): the request's authenticated user's
    from memory (authentication read it), anyone else's in one indexed read."""
    remembered = request_user_phone(user_id=user_id)
    if remembered is not None:
        return remembered
    return User.objects.filter(pk=user_id).values_list("phone", flat=True).first() or ""


def user_profile(*, user_id: int) -> UserProfile:
    """The user's profile with roles and masked real-name identity, in two queries."""
    user = User.objects.prefetch_related("groups").select_related("real_name").get(pk=user_id)
    identity: RealNameIdentity | None = getattr(user, "real_name", None)
    return UserProfile(
        id=user.pk,
        phone=user.phone,
        phone_display=display_phone(user.phone),
        nickname=user.nickname,
        roles=sorted(group.name for group in user.groups.all()),
        is_staff=user.is_staff,
        real_name=RealNameView(
            masked_name=identity.masked_name,
            id_number_masked=identity.id_number_masked,
            method=identity.method,
            verified_at=identity.verified_at.isoformat(),
        )
        if identity
        else None,
    )


def real_name_matches(*, user_id: int, name: str, id_number_hash: str) -> bool | None:
    """Whether ``name`` and the ID number (by its keyed hash) are the user's own verified
    real-name identity; None when the account has none."""
    identity = RealNameIdentity.objects.filter(user_id=user_id).first()
    if identity is None:
        return None
    return identity.name == name and identity.id_number_hash == id_number_hash


# The address book's reads (addresses.py holds its writes too).


def user_id_for_phone(*, phone: str) -> int | None:
    """The id of the user signed up with this number (E.164), None if there is none. Reads only."""
    return User.objects.filter(phone=phone).values_list("pk", flat=True).first()


@dataclass(frozen=True)
class UserBrief:
    id: int
    phone: str
    date_joined: datetime


def user_brief(*, user_id: int) -> UserBrief:
    """A user's number and join time (marketing's targets), in one query."""
    phone, joined = User.objects.values_list("phone", "date_joined").get(pk=user_id)
    return UserBrief(id=user_id, phone=phone, date_joined=joined)


def wechat_user_for_openid(*, openid: str) -> int | None:
    """The user bound to a WeChat follower, or None."""
    return WechatBinding.objects.filter(openid=openid).values_list("user_id", flat=True).first()


def wechat_openid_for_user(*, user_id: int) -> str | None:
    return WechatBinding.objects.filter(user_id=user_id).values_list("openid", flat=True).first()
