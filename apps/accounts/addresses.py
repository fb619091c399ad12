"""The address book: several delivery addresses per user, one of them the default.

Writes lock the user row first (the global lock order starts with the user), so that two
requests cannot both make an address the default; a partial unique index backs that up.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.accounts import locks
from apps.accounts.divisions import division_valid
from apps.accounts.errors import AddressBookFull, AddressNotFound, InvalidAddress
from apps.accounts.models import Address
from apps.accounts.validators import normalize_phone
from apps.core.audit import audit_record

MAX_ADDRESSES = 20


@dataclass(frozen=True)
class AddressInput:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


@dataclass(frozen=True)
class AddressView:
    id: int
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool

    @property
    def one_line(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.detail}"


def _view(a: Address) -> AddressView:
    return AddressView(
        a.pk, a.name, a.phone, a.province, a.city, a.district, a.detail, a.is_default
    )


def _clean(data: AddressInput) -> dict[str, str]:
    name, detail = data.name.strip(), data.detail.strip()
    if not name or not detail or not division_valid(data.province, data.city, data.district):
        raise InvalidAddress()
    phone = normalize_phone(data.phone)  # raises InvalidPhoneNumber
    national = phone[3:] if phone.startswith("+86") else phone
    return {
        "name": name[:30], "phone": national, "province": data.province, "city": data.city,
        "district": data.district, "detail": detail[:120],
    }  # fmt: skip


def _lock_user(user_id: int) -> None:
    locks.user_lock_if_exists(user_id)


def address_create(*, user_id: int, data: AddressInput, make_default: bool = False) -> AddressView:
    """Add an address (the first one becomes the default). Locks the user row."""
    fields = _clean(data)
    with transaction.atomic():
        _lock_user(user_id)
        existing = Address.objects.filter(user_id=user_id)
        if existing.count() >= MAX_ADDRESSES:
            raise AddressBookFull()
        default = make_default or not existing.exists()
        if default:
            existing.filter(is_default=True).update(is_default=False)
        address = Address.objects.create(user_id=user_id, is_default=default, **fields)
        audit_record(action="address.created", object_type="address", object_id=address.pk,
                     actor_id=user_id, after={"default": default})  # fmt: skip
    return _view(address)


def address_update(*, user_id: int, address_id: int, data: AddressInput) -> AddressView:
    """Change an address of the user's book. Locks the user row."""
    fields = _clean(data)
    with transaction.atomic():
        _lock_user(user_id)
        updated = Address.objects.filter(pk=address_id, user_id=user_id).update(**fields)
        if not updated:
            raise AddressNotFound()
        audit_record(action="address.updated", object_type="address", object_id=address_id,
                     actor_id=user_id, after={})  # fmt: skip
        return _view(Address.objects.get(pk=address_id))


def address_set_default(*, user_id: int, address_id: int) -> None:
    """Make one address the default (idempotent). Locks the user row."""
    with transaction.atomic():
        _lock_user(user_id)
        if not Address.objects.filter(pk=address_id, user_id=user_id).exists():
            raise AddressNotFound()
        Address.objects.filter(user_id=user_id, is_default=True).exclude(pk=address_id).update(
            is_default=False
        )
        Address.objects.filter(pk=address_id).update(is_default=True)
        audit_record(action="address.default", object_type="address", object_id=address_id,
                     actor_id=user_id, after={})  # fmt: skip


def address_delete(*, user_id: int, address_id: int) -> None:
    """Remove an address; when it was the default, the newest other one takes its place."""
    with transaction.atomic():
        _lock_user(user_id)
        address = Address.objects.filter(pk=address_id, user_id=user_id).first()
        if address is None:
            raise AddressNotFound()
        address.delete()
        if address.is_default:
            successor = Address.objects.filter(user_id=user_id).order_by("-id").first()
            if successor is not None:
                Address.objects.filter(pk=successor.pk).update(is_default=True)
        audit_record(action="address.deleted", object_type="address", object_id=address_id,
                     actor_id=user_id, after={})  # fmt: skip


def addresses_for(*, user_id: int) -> list[AddressView]:
    """The user's address book, the default first (one query)."""
    return [_view(a) for a in Address.objects.filter(user_id=user_id)]


def address_get(*, user_id: int, address_id: int) -> AddressView | None:
    found = Address.objects.filter(pk=address_id, user_id=user_id).first()
    return _view(found) if found else None
