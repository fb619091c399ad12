"""Charges: one sale of a content product billed to a subscriber, in-app (the CP's server
asks) or on the hosted web page; the owner object of a ``content`` payment.

The money takes the payments app's road (purpose ``content``, method ``carrier_billing``: the
carrier texts a code, the subscriber confirms it; or a provider method on the web page). The
handler registered in ``ContentConfig.ready`` settles the charge in the payment's
transaction: the charge is paid, the entitlement granted and the CP's share booked, once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.services import user_ensure_for_phone
from apps.carrier import services as carrier
from apps.carrier.errors import CarrierUnavailable, SubscriberNotFound
from apps.content import limits
from apps.content.errors import (
    ChapterRequired,
    ChargeNotFound,
    ChargeStateConflict,
    ComplaintStateConflict,
    IdentifierNotFound,
    PricePointNotFound,
    ProductNotFound,
    ProductNotOnSale,
    ReasonRequired,
)
from apps.content.locks import charge_lock
from apps.content.models import (
    Charge,
    Complaint,
    ContentProduct,
    ContentProvider,
    Entitlement,
    PricePoint,
)
from apps.content.services.entitlements import entitlement_for_charge, entitlements_revoke
from apps.content.services.money import share_post, share_reverse
from apps.content.services.price_points import price_point_for_sale
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import Conflict, DomainError
from apps.core.phone import normalize_phone
from apps.core.tasks import enqueue_on_commit
from apps.payments import services as payments
from apps.payments.handlers import PaymentFact, PurposeHandler, RefundFact
from apps.risk import services as risk
from apps.risk.errors import RiskBlocked, RiskRefused, RiskUnderReview

PURPOSE = "content"
Status = Charge.Status
PENDING_TTL_MINUTES = 15


def _move(charge: Charge, status: str) -> None:
    audited_transition(
        charge, status, object_type="content_charge", object_id=charge.pk,
        refused=lambda details: ChargeStateConflict(details=details),
    )  # fmt: skip
    charge.save(update_fields=["status", "updated_at"])


def _sellable(cp_id: int, product_id: int) -> ContentProduct:
    product = ContentProduct.objects.select_related("cp").filter(pk=product_id).first()
    if product is None or product.cp_id != cp_id:
        raise ProductNotFound()  # another CP's product is as unknown as a missing one
    if (
        product.status != ContentProduct.Status.APPROVED
        or product.cp.status != ContentProvider.Status.APPROVED
    ):
        raise ProductNotOnSale(details={"status": product.status})
    return product


def _product_of_point(*, cp_id: int, price_point_id: int | None, billing_code: str) -> int:
    """The product a price point named without its product belongs to (the CP's own only)."""
    rows = PricePoint.objects.filter(cp_id=cp_id)
    if price_point_id is not None:
        rows = rows.filter(pk=price_point_id)
    if billing_code:
        rows = rows.filter(billing_code=billing_code)
    product_id = rows.values_list("product_id", flat=True).first()
    if product_id is None or (price_point_id is None and not billing_code):
        raise PricePointNotFound(
            details={"price_point_id": price_point_id, "billing_code": billing_code or None}
        )
    return product_id


def own_subscriber(msisdn: str) -> int:
    """The platform user of a number of this carrier (made on first use); a number the carrier
    does not know, or another operator's, is ``IdentifierNotFound``. A network call."""
    try:
        subscriber = carrier.subscriber_lookup(msisdn=msisdn)
    except SubscriberNotFound as exc:
        raise IdentifierNotFound() from exc
    if not subscriber.is_own_network:
        raise IdentifierNotFound(details={"operator": subscriber.operator})
    return user_ensure_for_phone(phone=msisdn)


def charge_create(
    *,
    cp_id: int,
    product_id: int | None,
    phone_number: str,
    cp_order_id: str,
    channel: str = Charge.Channel.IN_APP,
    chapter: int | None = None,
    price_point_id: int | None = None,
    billing_code: str = "",
) -> Charge:
    """Open a charge and have the carrier text the subscriber a code (after commit).

    The price is a price point's: named by id or billing code (then the product may be left
    out), the product's default one otherwise. Idempotent by the CP's order id: a repeat
    naming the same product, price point and number returns the first charge (a different
    one is a ``Conflict``). Refused before anything is written: another CP's product or an
    unknown one (``ProductNotFound``), a product not on sale, a price point not the
    product's (``PricePointNotFound``) or not approved or off sale
    (``PricePointNotOnSale``), a number the carrier does not know (``IdentifierNotFound``),
    a content cap passed (``CapExceeded``), risk control's refusal (``RiskBlocked``;
    ``limits.charge_decide``). Risk control's review writes the charge ``held`` (the CP is
    notified ``charge.held``) and starts nothing: an operator's answer moves it on
    (``charge_hold_answered``).
    """
    msisdn = normalize_phone(phone_number)
    existing = Charge.objects.filter(cp_id=cp_id, cp_order_id=cp_order_id).first()
    if existing is not None:
        return _same(existing, msisdn=msisdn, product_id=product_id, price_point_id=price_point_id,
                     billing_code=billing_code)  # fmt: skip
    if product_id is None:
        product_id = _product_of_point(
            cp_id=cp_id, price_point_id=price_point_id, billing_code=billing_code
        )
    product = _sellable(cp_id, product_id)
    point = price_point_for_sale(
        product=product, price_point_id=price_point_id, billing_code=billing_code
    )
    if product.billing_mode == ContentProduct.BillingMode.PER_CHAPTER and not (
        chapter and product.chapters.filter(number=chapter).exists()
    ):
        raise ChapterRequired(details={"chapter": chapter})
    user_id = own_subscriber(msisdn)
    charge_id = f"CC{timezone.localtime():%y%m%d}{secrets.token_hex(8).upper()}"
    # Risk counts the caps in Redis at the decision (no lock here); the subscriber's code (or
    # the web page's payment) that follows is the second confirmation a challenge asks for.
    held = None
    try:
        decision = limits.charge_decide(
            user_id=user_id, msisdn=msisdn, cp_id=cp_id, product_id=product.pk,
            amount_fen=point.price_fen, reference=charge_id, confirmed_by_subscriber=True,
        )  # fmt: skip
    except RiskUnderReview as review:  # written held, with its place in risk's review queue
        decision, held = None, getattr(review, "hold", None)
    try:
        with transaction.atomic():
            charge = Charge.objects.create(
                id=charge_id, cp_id=cp_id, product=product, price_point=point, user_id=user_id,
                msisdn=msisdn, amount_fen=point.price_fen, channel=channel,
                cp_order_id=cp_order_id[:64], chapter=chapter,
                status=Status.HELD if held else Status.PENDING,
            )  # fmt: skip
            if held is not None:
                risk.hold_place(**held)
                from apps.content.services.notifications import notify_cp

                notify_cp(charge=charge, event="charge.held")
    except IntegrityError:
        if decision is not None:  # the first charge under this order id counted
            risk.decision_release(decision=decision)
        existing = Charge.objects.get(cp_id=cp_id, cp_order_id=cp_order_id)
        return _same(existing, msisdn=msisdn, product_id=product_id, price_point_id=price_point_id,
                     billing_code=billing_code)  # fmt: skip
    if held is not None or decision is None:
        return Charge.objects.get(pk=charge.pk)
    if channel == Charge.Channel.IN_APP:
        try:
            charge_pay_start(charge_id=charge.pk, method="carrier_billing", channel="")
        except DomainError:
            risk.decision_release(decision=decision)  # the charge failed: nothing was billed
            raise
    return Charge.objects.get(pk=charge.pk)


def _same(
    existing: Charge, *, product_id: int | None, msisdn: str, price_point_id: int | None,
    billing_code: str,
) -> Charge:  # fmt: skip
    """The first charge under a CP's order id, if the repeat asks for the same thing."""
    point = existing.price_point
    differs = (
        existing.msisdn != msisdn
        or (product_id is not None and existing.product_id != product_id)
        or (price_point_id is not None and existing.price_point_id != price_point_id)
        or (bool(billing_code) and (point is None or point.billing_code != billing_code))
        or (price_point_id is None and not billing_code and point is not None and not point.is_default)
    )  # fmt: skip
    if differs:
        raise Conflict(details={"cp_order_id": existing.cp_order_id})
    return existing


def charge_price_point_choose(*, charge_id: str, user_id: int, price_point_id: int) -> Charge:
    """On the hosted pay page the subscriber picks another of the product's price points
    before paying: the charge's price point and amount follow. Only while the charge waits
    and no payment of it was started (``ChargeStateConflict``); a price point not on sale is
    refused. Risk is asked again about the new amount (the first decision's count stays:
    the caps err on the safe side). Locks the charge."""
    charge = Charge.objects.select_related("product").filter(pk=charge_id, user_id=user_id).first()
    if charge is None:
        raise ChargeNotFound()
    point = price_point_for_sale(product=charge.product, price_point_id=price_point_id)
    if point.pk == charge.price_point_id:
        return charge
    try:
        # A review here would hold a charge that already exists and waits: there is no hold
        # to place it in, so risk's review is a refusal of this price (the charge keeps its own).
        decision = limits.charge_decide(
            user_id=user_id, msisdn=charge.msisdn, cp_id=charge.cp_id, product_id=charge.product_id,
            amount_fen=point.price_fen, reference=f"{charge.pk}:{point.pk}",
            confirmed_by_subscriber=False,
        )  # fmt: skip
    except RiskBlocked as exc:
        if exc.details.get("review") != "unholdable":
            raise
        raise RiskBlocked(
            _(
                "Risk control would review this price: it cannot be chosen now. Pay the price shown, or choose another."
            ),
            details=exc.details,
        ) from exc
    with transaction.atomic():
        locked = charge_lock(charge_id=charge.pk)
        if locked is None or locked.status != Status.PENDING or locked.intent_public_id:
            risk.decision_release(decision=decision)
            raise ChargeStateConflict(details={"status": locked.status if locked else None})
        before = locked.amount_fen
        locked.price_point, locked.amount_fen = point, point.price_fen
        locked.save(update_fields=["price_point", "amount_fen", "updated_at"])
        audit_record(action="content_charge.price_point_chosen", object_type="content_charge",
                     object_id=locked.pk, actor_id=user_id, before={"amount_fen": before},
                     after={"price_point": point.pk, "amount_fen": point.price_fen})  # fmt: skip
    return locked


def charge_pay_start(
    *, charge_id: str, method: str, channel: str, client_ip: str = "", return_url: str = ""
) -> payments.IntentView:
    """Start the charge's payment (network call, no transaction open): for the phone bill the
    carrier texts the subscriber a code. One payment per charge and method (idempotent key)."""
    charge = Charge.objects.select_related("product").get(pk=charge_id)
    if charge.status != Status.PENDING:
        raise ChargeStateConflict(details={"status": charge.status})
    try:
        intent = payments.intent_start(
            purpose=PURPOSE, reference=charge.pk, user_id=charge.user_id, method=method, channel=channel,
            amount_fen=charge.amount_fen, subject=charge.product.title, client_ip=client_ip,
            idempotency_key=f"content:{charge.pk}:{method}",
            expires_at=timezone.now() + timedelta(minutes=PENDING_TTL_MINUTES), return_url=return_url,
            msisdn=charge.msisdn,
        )  # fmt: skip
    except DomainError as exc:
        if method == "carrier_billing":
            with transaction.atomic():
                locked = charge_lock(charge_id=charge.pk)
                if locked is not None and locked.status == Status.PENDING:
                    _move(locked, Status.FAILED)
        if isinstance(exc, SubscriberNotFound):
            raise IdentifierNotFound() from exc
        raise
    Charge.objects.filter(pk=charge.pk).update(intent_public_id=intent.public_id)
    return intent


def charge_hold_answered(*, charge_id: str, released: bool) -> bool:
    """Risk's answer to a held charge (in the outbox handler's transaction): released, it
    becomes ``pending`` and goes on as if never held (in-app: the carrier texts the code, a
    task after commit); refused, it fails with ``RISK_REFUSED``. The CP is notified either
    way (``charge.released`` / ``charge.refused``). Locks the charge; a charge no longer held
    is left as it is, so an answer acts once. Returns whether it acted."""
    from apps.content.services.notifications import notify_cp

    charge = charge_lock(charge_id=charge_id)
    if charge is None or charge.status != Status.HELD:
        return False
    if released:
        _move(charge, Status.PENDING)
        if charge.channel == Charge.Channel.IN_APP:
            from apps.content.tasks import charge_pay_start_task

            enqueue_on_commit(charge_pay_start_task, charge.pk)
    else:
        charge.error_code = RiskRefused.code
        charge.save(update_fields=["error_code"])
        _move(charge, Status.FAILED)
    notify_cp(charge=charge, event="charge.released" if released else "charge.refused")
    return True


def charge_get(*, cp_id: int, charge_id: str) -> Charge:
    charge = Charge.objects.select_related("product").filter(pk=charge_id, cp_id=cp_id).first()
    if charge is None:
        raise ChargeNotFound()
    return charge


def charge_confirm(*, charge_id: str, code: str, cp_id: int | None = None) -> Charge:
    """The subscriber's SMS code confirms the charge (the second confirmation): the bill is
    charged once, the entitlement granted. Wrong or expired codes and too many attempts are
    the payments app's refusals (``CARRIER_BILLING_CODE_INVALID`` / ``..._EXPIRED``); nothing
    is charged then. Idempotent: a paid charge answers with itself."""
    charge = Charge.objects.filter(pk=charge_id).first()
    if charge is None or (cp_id is not None and charge.cp_id != cp_id):
        raise ChargeNotFound()
    if charge.status == Status.SUCCEEDED:
        return charge
    if charge.status != Status.PENDING or not charge.intent_public_id:
        raise ChargeStateConflict(details={"status": charge.status})
    try:
        payments.carrier_billing_confirm(
            public_id=charge.intent_public_id, user_id=charge.user_id, code=code
        )
    except CarrierUnavailable:
        raise
    return Charge.objects.select_related("product").get(pk=charge.pk)


def charge_refund(*, cp_id: int, charge_id: str, reason: str) -> payments.RefundView | None:
    """Give a paid charge's money back in full (the CP asks, or an operator); the entitlement
    is revoked and the CP's share reversed when the refund succeeds. Idempotent per charge."""
    charge = charge_get(cp_id=cp_id, charge_id=charge_id)
    if charge.status not in (Status.SUCCEEDED, Status.REFUNDED):
        raise ChargeStateConflict(details={"status": charge.status})
    return payments.refund_automatic(
        purpose=PURPOSE, reference=charge.pk, amount_fen=charge.amount_fen,
        reason=reason or "content refund", key=f"content:{charge.pk}",
    )  # fmt: skip


def charge_complain(*, user_id: int, product_id: int, note: str = "") -> Charge:
    """The subscriber says "I did not order this" about their latest paid charge for a
    product: a complaint for the operators' queue (one per charge, ``complaint_handle``) and
    a complaint label for risk control (once per charge), which counts in the CP's and the
    product's complaint rate (risk's nightly anomalies open a case over the threshold; the
    case can warn or suspend the CP) and in backtests. ``ChargeNotFound`` when the
    subscriber has no paid charge for it."""
    charge = (
        Charge.objects.filter(
            user_id=user_id, product_id=product_id,
            status__in=(Status.SUCCEEDED, Status.REFUNDED),
        )
        .order_by("-created_at")
        .first()
    )  # fmt: skip
    if charge is None:
        raise ChargeNotFound()
    with transaction.atomic():
        complaint, created = Complaint.objects.get_or_create(
            charge=charge, defaults={"user_id": user_id, "note": note[:200]}
        )
        if created:
            audit_record(action="content_complaint.opened", object_type="content_complaint",
                         object_id=complaint.pk, actor_id=user_id, after={"charge": charge.pk})  # fmt: skip
        risk.complaint_label(
            origin=f"content_charge:{charge.pk}", reference=charge.pk, msisdn=charge.msisdn,
            cp_id=str(charge.cp_id), product=f"content:{charge.product_id}", note=note[:200],
        )  # fmt: skip
    return charge


def complaint_handle(
    *, complaint_id: int, refund: bool, actor_id: int | None, answer: str = ""
) -> Complaint:
    """An operator answers a complaint: ``refund`` gives the charge's money back in full (the
    entitlement is revoked and the CP's share reversed when the refund is paid, as for any
    refund) and labels it a refund marked fraud for risk control; otherwise the complaint is
    rejected with an ``answer`` (required). The refund comes first and is idempotent per
    charge, so two operators answering at once refund once; the second answer is refused
    (``ComplaintStateConflict``)."""
    if not refund and not answer.strip():
        raise ReasonRequired()
    complaint = Complaint.objects.select_related("charge").filter(pk=complaint_id).first()
    if complaint is None:
        raise ChargeNotFound()
    if complaint.status != Complaint.Status.OPEN:
        raise ComplaintStateConflict(details={"status": complaint.status})
    charge = complaint.charge
    if refund:
        charge_refund(cp_id=charge.cp_id, charge_id=charge.pk, reason=f"complaint {complaint.pk}")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint_id)
        to = Complaint.Status.REFUNDED if refund else Complaint.Status.REJECTED
        if complaint.status != Complaint.Status.OPEN:
            raise ComplaintStateConflict(details={"status": complaint.status})
        complaint.status, complaint.answer = to, answer.strip()[:200]
        complaint.handled_by_id, complaint.handled_at = actor_id, timezone.now()
        complaint.save(update_fields=["status", "answer", "handled_by_id", "handled_at"])
        audit_record(action=f"content_complaint.{to}", object_type="content_complaint",
                     object_id=complaint.pk, actor_id=actor_id, after={"charge": charge.pk, "answer": complaint.answer})  # fmt: skip
        if refund:
            risk.label_record(
                source="refund_fraud", origin=f"content_complaint:{complaint.pk}", reference=charge.pk,
                msisdn=charge.msisdn, cp_id=str(charge.cp_id), product=f"content:{charge.product_id}",
                note=complaint.answer or complaint.note,
            )  # fmt: skip
    return complaint


# --- The payments handler -------------------------------------------------------------------


def _lock(reference: str) -> None:
    charge_lock(charge_id=reference)


def _on_succeeded(fact: PaymentFact) -> bool:
    """Take the money if the charge still wants it: paid, entitled, the CP's share booked."""
    charge = charge_lock(charge_id=fact.reference)
    if charge is None or fact.amount_fen != charge.amount_fen or charge.status != Status.PENDING:
        return False
    _move(charge, Status.SUCCEEDED)
    if charge.product.billing_mode == ContentProduct.BillingMode.MONTHLY:
        from apps.content.services.subscriptions import subscription_from_charge

        subscription_from_charge(charge, now=timezone.now())
    else:
        entitlement_for_charge(charge)
    cp = ContentProvider.objects.get(pk=charge.cp_id)
    share_post(
        cp=cp, amount_fen=charge.amount_fen, key=fact.public_id, reference=f"{PURPOSE}:{charge.pk}"
    )
    from apps.content.services.notifications import notify_cp

    renewal = charge.channel == Charge.Channel.SUBSCRIPTION
    notify_cp(charge=charge, event="subscription.renewed" if renewal else "charge.succeeded")
    return True


def _on_refunded(fact: RefundFact) -> None:
    if not fact.intent_settled:
        return
    charge = charge_lock(charge_id=fact.reference)
    if charge is None or charge.status == Status.CHARGED_BACK:
        return  # a chargeback took the CP's share back already
    cp = ContentProvider.objects.get(pk=charge.cp_id)
    share_reverse(
        cp=cp,
        amount_fen=fact.amount_fen,
        key=str(fact.refund_id),
        reference=f"{PURPOSE}:{charge.pk}",
    )
    if fact.intent_fully_refunded and charge.status == Status.SUCCEEDED:
        _move(charge, Status.REFUNDED)
        entitlements_revoke(
            source=Entitlement.Source.CHARGE, references=[charge.pk], reason="refunded"
        )
        from apps.content.services.notifications import notify_cp

        notify_cp(charge=charge, event="charge.refunded")


def _describe(reference: str) -> str:
    return f"数字内容 {reference}"


HANDLER = PurposeHandler(
    on_succeeded=_on_succeeded, on_refunded=_on_refunded, describe=_describe, lock=_lock
)
