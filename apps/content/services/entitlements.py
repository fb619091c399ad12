"""Entitlements: what a paid charge or a paid mall line lets a subscriber read, watch or play,
and their revocation when the money goes back."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from apps.content.locks import entitlements_lock
from apps.content.models import Charge, ContentProduct, Entitlement
from apps.core.audit import audit_record

# A monthly product's paid period (a charge outside a subscription buys one period).
PERIOD = timedelta(days=30)


def entitlement_grant(
    *,
    user_id: int,
    product: ContentProduct,
    source: str,
    reference: str,
    chapter: int | None = None,
    now: datetime | None = None,
    ends_at: datetime | None = None,
) -> Entitlement:
    """Grant once per (source, reference): a repeat returns the first grant. Runs in the
    caller's transaction (the payment's or the order line's hand-off). Audited."""
    now = now or timezone.now()
    if ends_at is None and product.billing_mode == ContentProduct.BillingMode.MONTHLY:
        ends_at = now + PERIOD
    entitlement, created = Entitlement.objects.get_or_create(
        source=source, reference=reference,
        defaults={"user_id": user_id, "product": product, "chapter": chapter, "starts_at": now,
                  "ends_at": ends_at},
    )  # fmt: skip
    if created:
        audit_record(action="entitlement.granted", object_type="entitlement", object_id=entitlement.pk,
                     actor_id=user_id, after={"product": product.pk, "source": source, "reference": reference,
                                              "chapter": chapter, "until": ends_at.isoformat() if ends_at else None})  # fmt: skip
    return entitlement


def entitlements_revoke(*, source: str, references: list[str], reason: str) -> int:
    """Revoke the entitlements granted by these charges or lines (a refund, a chargeback);
    returns how many were revoked now. Idempotent."""
    now = timezone.now()
    rows = list(entitlements_lock(source=source, references=references))
    for row in rows:
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        audit_record(action="entitlement.revoked", object_type="entitlement", object_id=row.pk,
                     after={"source": source, "reference": row.reference, "reason": reason})  # fmt: skip
    return len(rows)


def entitlement_for_charge(charge: Charge) -> Entitlement:
    return entitlement_grant(
        user_id=charge.user_id, product=charge.product, source=Entitlement.Source.CHARGE,
        reference=charge.pk, chapter=charge.chapter,
    )  # fmt: skip
