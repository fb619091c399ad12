"""Content providers: registration, qualification documents, operator review, members, keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from apps.accounts.models import Role
from apps.accounts.services import user_role_grant
from apps.content.errors import ProviderNotFound, ReasonRequired, ReviewRefused
from apps.content.locks import cp_lock
from apps.content.models import ContentProvider, CpDocument, CpMember, SigningKey
from apps.core.audit import audit_record, audited_transition
from apps.core.crypto import encrypt_text

Status = ContentProvider.Status
Slot = SigningKey.Slot


def _move(cp: ContentProvider, status: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(
        cp, status, object_type="content_provider", object_id=cp.pk, actor_id=actor_id,
        refused=lambda details: ReviewRefused(details=details), after=after,
    )  # fmt: skip


def cp_register(
    *,
    user_id: int,
    name: str,
    licence_number: str,
    bank_account: str,
    contact_name: str,
    contact_phone: str,
) -> ContentProvider:
    """A company applies to sell content; the applying user becomes its first member (role
    ``content_provider``). The CP waits for an operator's review. Audited."""
    with transaction.atomic():
        cp = ContentProvider.objects.create(
            name=name, licence_number=licence_number, bank_account=bank_account,
            contact_name=contact_name, contact_phone=contact_phone,
        )  # fmt: skip
        CpMember.objects.create(cp=cp, user_id=user_id)
        user_role_grant(user_id=user_id, role=Role.CONTENT_PROVIDER, actor_id=user_id)
        audit_record(action="content_provider.registered", object_type="content_provider",
                     object_id=cp.pk, actor_id=user_id, after={"name": name, "licence": licence_number})  # fmt: skip
    return cp


def cp_document_add(
    *, cp_id: int, title: str, name: str, content: bytes, actor_id: int | None
) -> int:
    """Keep one qualification document of a CP (audited); returns its id."""
    from django.core.files.base import ContentFile

    with transaction.atomic():
        cp = cp_lock(cp_id=cp_id)
        document = CpDocument(cp=cp, title=title[:64])
        document.file.save(name, ContentFile(content), save=True)
        audit_record(action="content_provider.document_added", object_type="content_provider",
                     object_id=cp.pk, actor_id=actor_id, after={"title": title, "file": document.file.name})  # fmt: skip
    return document.pk


def cp_review(
    *, cp_id: int, decision: str, actor_id: int | None, reason: str = ""
) -> ContentProvider:
    """An operator's decision on a CP: ``approve``, ``reject`` (with a reason), ``suspend``,
    ``reinstate``, or ``resubmit`` (the CP asks again after a rejection). Locks the CP row;
    a decision the state does not allow raises ``ReviewRefused`` and changes nothing."""
    to = {"approve": Status.APPROVED, "reject": Status.REJECTED, "suspend": Status.SUSPENDED,
          "reinstate": Status.APPROVED, "resubmit": Status.PENDING}.get(decision)  # fmt: skip
    if to is None:
        raise ReviewRefused(details={"decision": decision})
    if to in (Status.REJECTED, Status.SUSPENDED) and not reason.strip():
        raise ReasonRequired()
    with transaction.atomic():
        try:
            cp = cp_lock(cp_id=cp_id)
        except ContentProvider.DoesNotExist as exc:
            raise ProviderNotFound() from exc
        _move(cp, to, actor_id=actor_id, reason=reason)
        cp.reject_reason = reason.strip()[:200] if to != Status.APPROVED else ""
        cp.save(update_fields=["status", "reject_reason", "updated_at"])
        if to == Status.APPROVED:
            from apps.content.services.money import cp_payable_ensure

            cp_payable_ensure(cp_id=cp.pk)
        # The mall follows the CP: a suspended CP's listings are archived, a reinstated CP's
        # approved products are on sale again (a product's own state still applies).
        from apps.content.services.products import sync_listing

        for product in cp.products.filter(catalog_product_id__isnull=False).select_related("cp"):
            sync_listing(product)
    return cp


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str  # shown once
    slot: str


def cp_key_issue(
    *, cp_id: int, actor_id: int | None, demo_secret: str = "", key_id: str = ""
) -> IssuedKey:
    """Issue the CP's next key (its first becomes active at once). The secret is returned
    once and kept encrypted. Replaces an unused next key. Locks the CP row. ``demo_secret``
    and ``key_id``: the demo seed's published key, which the sandbox's demo CP app signs with."""
    secret = demo_secret or secrets.token_urlsafe(32)
    with transaction.atomic():
        cp = cp_lock(cp_id=cp_id)
        slot = Slot.NEXT if cp.keys.filter(slot=Slot.ACTIVE).exists() else Slot.ACTIVE
        cp.keys.filter(slot=slot).update(slot=Slot.RETIRED)
        key = SigningKey.objects.create(
            cp=cp, key_id=key_id or f"cp{cp.pk}_{secrets.token_hex(6)}", secret_encrypted=encrypt_text(secret),
            secret_hint=secret[-4:], slot=slot,
        )  # fmt: skip
        audit_record(action="content_provider.key_issued", object_type="content_provider",
                     object_id=cp.pk, actor_id=actor_id, after={"key_id": key.key_id, "slot": slot})  # fmt: skip
    return IssuedKey(key_id=key.key_id, secret=secret, slot=slot)


def cp_key_rotate(*, cp_id: int, actor_id: int | None) -> str:
    """Make the next key active and retire the active one (like the gateway's credentials);
    returns the now active key id. Refused (``ReviewRefused``) when there is no next key."""
    with transaction.atomic():
        cp = cp_lock(cp_id=cp_id)
        nxt = cp.keys.filter(slot=Slot.NEXT).first()
        if nxt is None:
            raise ReviewRefused(details={"next_key": None})
        cp.keys.filter(slot=Slot.ACTIVE).update(slot=Slot.RETIRED)
        nxt.slot = Slot.ACTIVE
        nxt.save(update_fields=["slot"])
        audit_record(action="content_provider.key_rotated", object_type="content_provider",
                     object_id=cp.pk, actor_id=actor_id, after={"active": nxt.key_id})  # fmt: skip
    return nxt.key_id
