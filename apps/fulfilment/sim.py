"""Activating a SIM card's line at the carrier once the card has reached its buyer, exactly once.

The number's sale recorded its owner's real-name identity; here the carrier's BOSS opens the
subscriber under that owner. Each line is sent under one idempotency key
(``sim-activation:<order line id>``), and after a timeout or lost answer the carrier is asked
by key before anything is sent again (``carrier.identity.sim_line_open_once``). No transaction
is open during the carrier call: the attempt is recorded and committed first, the result after.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from apps.carrier.errors import CarrierRejected, SubscriberNotFound
from apps.carrier.identity import sim_line_open_once
from apps.core.tasks import enqueue_on_commit
from apps.simcards import selectors as sim_selectors
from apps.simcards import services as simcards

logger = logging.getLogger(__name__)
RETRY_IDLE_SECONDS = 60


def activation_key(line_id: int) -> str:
    return f"sim-activation:{line_id}"


def sim_line_delivered(line_id: int) -> None:
    """Listener for a delivered physical line (called on commit): activate it if it is a SIM."""
    from apps.fulfilment.tasks import sim_activate_task  # the task module imports this one

    if sim_selectors.activation_request(line_id=line_id) is not None:
        enqueue_on_commit(sim_activate_task, line_id)


def sim_activate(*, line_id: int) -> str:
    """Open the line of the SIM card sold on ``line_id``; returns what happened.

    Idempotent: an active number is left alone and a repeat is sent under the same key.
    Raises ``CarrierUnavailable`` when the carrier's answer is still unknown (retry later). A
    refusal (``IDENTITY_MISMATCH``, ``ID_NUMBER_LIMIT_REACHED``, ``NUMBER_IN_USE``...) is
    recorded on the number for operators, who retry from the workbench once it is resolved.
    """
    request = sim_selectors.activation_request(line_id=line_id)
    if request is None:
        return "not_a_sim"
    if request.status == "active":
        return "already_active"
    if request.status != "sold":
        return f"not_sold:{request.status}"
    simcards.number_activation_started(msisdn=request.msisdn)
    try:
        opened = sim_line_open_once(
            msisdn=request.msisdn, name=request.owner_name, id_number=request.id_number,
            reference=f"line:{line_id}", idempotency_key=activation_key(line_id),
            province=request.province, city=request.city,
        )  # fmt: skip
    except (CarrierRejected, SubscriberNotFound) as exc:
        code = getattr(exc, "carrier_code", "") or exc.code
        simcards.number_activation_failed(msisdn=request.msisdn, error=f"{code}: {exc.message}")
        logger.warning("SIM activation of line %s refused: %s", line_id, code)
        return f"refused:{code}"
    simcards.number_activated(msisdn=request.msisdn, request_id=opened.request_id)
    return "activated"


def sim_activations_retry(*, limit: int = 100) -> int:
    """Beat: activations whose carrier did not answer, idle for a minute, are tried again."""
    from apps.carrier.errors import CarrierUnavailable

    done = 0
    idle_before = timezone.now() - timedelta(seconds=RETRY_IDLE_SECONDS)
    for line_id in sim_selectors.lines_awaiting_activation(idle_before=idle_before, limit=limit):
        try:
            if sim_activate(line_id=line_id) == "activated":
                done += 1
        except CarrierUnavailable:
            break  # the carrier is still down; the next run tries again
    return done
