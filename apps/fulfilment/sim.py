"""Activating a SIM card's line at the carrier once the card has reached its buyer, exactly once.

The SIM line's ``Delivery`` (kind ``sim``) is the activation's state: ``delivering`` from the
parcel's delivery (``parcel_delivered``) until the carrier opens the line (``delivered``); a
refusal fails it and refunds the line automatically (issue #11). The number's own status in the
pool (sold -> active) stays simcards'. Each line is sent under one idempotency key
(``sim-activation:<order line id>``), and after a timeout or lost answer the carrier is asked
by key before anything is sent again (``carrier.identity.sim_line_open_once``). No transaction
is open during the carrier call: the attempt is recorded and committed first, the result after.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.carrier.errors import CarrierRejected, SubscriberNotFound
from apps.carrier.identity import LineOpened, sim_line_open_once
from apps.fulfilment.locks import delivery_lock
from apps.fulfilment.models import Delivery
from apps.simcards import selectors as sim_selectors
from apps.simcards import services as simcards

logger = logging.getLogger(__name__)
RETRY_IDLE_SECONDS = 60
Status = Delivery.Status


def activation_key(line_id: int) -> str:
    return f"sim-activation:{line_id}"


def sim_activation_enqueue(line_id: int) -> None:
    """Activate the SIM of ``line_id`` after the current transaction commits."""
    from apps.core.tasks import enqueue_on_commit
    from apps.fulfilment.tasks import sim_activate_task  # the task module imports this one

    enqueue_on_commit(sim_activate_task, line_id)


def sim_activate(*, line_id: int) -> str:
    """Open the line of the SIM card sold on ``line_id``; returns what happened.

    Idempotent: a delivered (active) line is left alone and a repeat is sent under the same
    key. Raises ``CarrierUnavailable`` when the carrier's answer is still unknown (retry later).
    A refusal (``IDENTITY_MISMATCH``, ``ID_NUMBER_LIMIT_REACHED``, ``NUMBER_IN_USE``...) fails
    the delivery and refunds the line automatically. Locks the delivery in each transaction.
    """
    from apps.fulfilment.services import delivery_move, job_fail

    request = sim_selectors.activation_request(line_id=line_id)
    delivery = Delivery.objects.filter(line_id=line_id, kind=Delivery.Kind.SIM).first()
    if request is None or delivery is None:
        return "not_a_sim"
    if delivery.status == Status.DELIVERED or request.status == "active":
        return "already_active"
    if delivery.status in (Status.FAILED, Status.REFUNDED) or request.status != "sold":
        return f"not_sold:{request.status if request.status != 'sold' else delivery.status}"
    with transaction.atomic():
        locked = delivery_lock(delivery_id=delivery.pk)
        delivery_move(locked, Status.DELIVERING, attempt=locked.attempts + 1)
        locked.attempts += 1
        locked.save(update_fields=["status", "attempts", "updated_at"])
    try:
        opened = sim_line_open(request, line_id)
    except (CarrierRejected, SubscriberNotFound) as exc:
        code = getattr(exc, "carrier_code", "") or exc.code
        logger.warning("SIM activation of line %s refused: %s", line_id, code)
        job_fail(job_id=delivery.pk, reason=code)
        return f"refused:{code}"
    simcards.number_activated(msisdn=request.msisdn, request_id=opened.request_id)
    with transaction.atomic():
        locked = delivery_lock(delivery_id=delivery.pk)
        if locked.status == Status.DELIVERING:
            locked.carrier_request_id = opened.request_id[:32]
            locked.last_error = ""
            delivery_move(locked, Status.DELIVERED, msisdn=request.msisdn)
            locked.save(
                update_fields=[
                    "status",
                    "carrier_request_id",
                    "last_error",
                    "delivered_at",
                    "updated_at",
                ]
            )
    return "activated"


def sim_line_open(request: sim_selectors.ActivationRequest, line_id: int) -> LineOpened:
    """The carrier call (no transaction open)."""
    return sim_line_open_once(
        msisdn=request.msisdn, name=request.owner_name, id_number=request.id_number,
        reference=f"line:{line_id}", idempotency_key=activation_key(line_id),
        province=request.province, city=request.city,
    )  # fmt: skip


def sim_activations_retry(*, limit: int = 100) -> int:
    """Beat: activations whose carrier did not answer, idle for a minute, are tried again."""
    from apps.carrier.errors import CarrierUnavailable

    done = 0
    idle_before = timezone.now() - timedelta(seconds=RETRY_IDLE_SECONDS)
    line_ids = (
        Delivery.objects.filter(kind=Delivery.Kind.SIM, status=Status.DELIVERING, updated_at__lt=idle_before)
        .order_by("updated_at").values_list("line_id", flat=True)[:limit]
    )  # fmt: skip
    for line_id in list(line_ids):
        try:
            if sim_activate(line_id=line_id) == "activated":
                done += 1
        except CarrierUnavailable:
            break  # the carrier is still down; the next run tries again
    return done
