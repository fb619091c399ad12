"""Content as the deliverer of the mall's digital lines (outbox topics fulfilment publishes).

Fulfilment owns every line's delivery; for a digital line it hands the entitlement over with
``fulfilment.entitlement_requested`` (the hand-off is the line's delivery). Content grants the
entitlement to the buyer, books the CP's share of what the line was paid, and texts the buyer
where to find it. A refunded line (``orders.lines_refunded``) loses its entitlement and the
share goes back. Each handler runs once per event (the outbox's receipt) and is idempotent by
the line anyway.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.accounts.selectors import user_profile
from apps.carrier.services import sms_queue
from apps.content.models import ContentProduct, ContentProvider, Entitlement, PricePoint
from apps.content.services.entitlements import entitlement_grant, entitlements_revoke
from apps.content.services.money import share_post, share_reverse
from apps.core import outbox


@outbox.handler("fulfilment.entitlement_requested")
def entitlement_requested(event: outbox.Event) -> None:
    fact = event.payload
    # The product's first SKU, or the SKU of one of its other price points.
    point = PricePoint.objects.filter(catalog_sku_id=fact.get("sku_id")).first()
    rows = ContentProduct.objects.select_related("cp")
    product = (
        rows.filter(pk=point.product_id).first()
        if point is not None
        else rows.filter(catalog_sku_id=fact.get("sku_id")).first()
    )
    if product is None:
        return  # a platform-sold digital good: no CP, nothing to grant here
    line = str(fact["line_id"])
    if Entitlement.objects.filter(source=Entitlement.Source.ORDER, reference=line).exists():
        return
    entitlement = entitlement_grant(
        user_id=int(fact["user_id"]),
        product=product,
        source=Entitlement.Source.ORDER,
        reference=line,
    )
    paid = int(fact.get("paid_fen") or 0)
    if paid > 0:
        entitlement.share_fen = share_post(
            cp=product.cp, amount_fen=paid, key=f"line:{line}", reference=f"order:{fact['number']}"
        )
        entitlement.save(update_fields=["share_fen"])
    sms_queue(msisdn=user_profile(user_id=int(fact["user_id"])).phone, purpose="notice",
              text=_("[CarrierHub] %(title)s is yours: open My content to use it.") % {"title": product.title})  # fmt: skip


@outbox.handler("orders.lines_refunded")
def lines_refunded(event: outbox.Event) -> None:
    fact = event.payload
    lines = [str(line_id) for line_id in fact.get("line_ids", [])]
    granted = Entitlement.objects.select_related("product__cp").filter(
        source=Entitlement.Source.ORDER, reference__in=lines, revoked_at__isnull=True
    )
    shares = [(row.reference, row.product.cp, row.share_fen) for row in granted]
    entitlements_revoke(source=Entitlement.Source.ORDER, references=lines, reason="refunded")
    for line, cp, share in shares:
        if share:
            share_reverse(cp=cp, amount_fen=0, share_fen=share, key=f"line:{line}",
                          reference=f"order:{fact['number']}")  # fmt: skip


@outbox.handler("risk.case.closed")
def risk_case_closed(event: outbox.Event) -> None:
    """A risk case about a CP closed as "CP warned" texts the CP's contact the warning (risk
    keeps the warning, shown in the CP console); closed as "CP suspended", or a warning that
    reached ``RISK_CP_WARNINGS_BEFORE_SUSPENSION`` (``suspend``), suspends the CP here (its
    products leave the mall); risk has blocked it on its lists already. Once: a CP no longer
    approved is left as it is."""
    from apps.content.services.providers import cp_review

    fact = event.payload
    dimension, _sep, value = str(fact.get("subject", "")).partition(":")
    outcome = fact.get("outcome")
    if outcome not in ("cp_warned", "cp_suspended") or dimension != "cp_id" or not value.isdigit():
        return
    cp = ContentProvider.objects.filter(pk=int(value)).first()
    if cp is None:
        return
    if outcome == "cp_warned" and cp.contact_phone:
        text = _(
            "[CarrierHub] Risk warning for %(cp)s: %(title)s. Repeated warnings suspend the account."
        )
        sms_queue(msisdn=cp.contact_phone, purpose="notice",
                  text=text % {"cp": cp.name, "title": fact.get("title", "")})  # fmt: skip
    suspend = outcome == "cp_suspended" or bool(fact.get("suspend"))
    if not suspend or cp.status != ContentProvider.Status.APPROVED:
        return
    reason = _("Risk case %(case)s: %(title)s") % {
        "case": fact["case_id"],
        "title": fact.get("title", ""),
    }
    cp_review(cp_id=cp.pk, decision="suspend", actor_id=fact.get("actor_id"), reason=reason[:200])


@outbox.handler("risk.hold.released")
@outbox.handler("risk.hold.refused")
def risk_hold_answered(event: outbox.Event) -> None:
    """An operator (or the expiry) answered a content charge held for risk review."""
    from apps.content.limits import HOLD_OWNER
    from apps.content.services.charges import charge_hold_answered

    if event.payload.get("owner") == HOLD_OWNER:
        charge_hold_answered(
            charge_id=event.payload["reference"], released=event.topic == "risk.hold.released"
        )
