"""The review queue: what a ``review`` decision stopped, until an operator answers.

``enforce`` is the one call a path makes: it decides, raises on a block, and on a review
puts the thing on hold (keyed by owner and reference) and raises ``RiskUnderReview`` — unless
an operator released that hold already, then the path goes on. The owner hears the answer
through the outbox (``risk.hold.released`` / ``risk.hold.refused``, payload ``owner``,
``reference``) and does what it means for its thing (refused money is refunded there).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import redis
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import outbox
from apps.core.audit import audited_transition
from apps.core.errors import Conflict
from apps.risk.errors import HoldNotFound, RiskBlocked, RiskRefused, RiskUnderReview
from apps.risk.events import Decision, Event, Outcome

P = ParamSpec("P")
R = TypeVar("R")


class HoldStateRefused(Conflict):
    code = "RISK_HOLD_STATE"


def enforce(*, event: Event, owner: str = "", reference: str = "") -> Decision:
    """Decide and act: ``block`` raises ``RiskBlocked``; ``review`` raises ``RiskUnderReview``
    (the hold is written by ``holds_on_review`` around the caller's service, after its
    transaction rolled back) or ``RiskRefused`` once refused; a released hold, ``allow`` and
    ``challenge`` return the decision (the caller asks for the code on a challenge)."""
    from apps.risk.services import decide

    decision = decide(event=event)
    if decision.outcome == Outcome.BLOCK:
        blocked = RiskBlocked(details={"reasons": list(decision.reasons)})
        blocked.decision = decision  # type: ignore[attr-defined]
        raise blocked
    if decision.outcome == Outcome.REVIEW:
        from apps.risk.models import Hold

        status = (
            Hold.objects.filter(owner=owner, reference=reference)
            .values_list("status", flat=True)
            .first()
        )
        if status == Hold.Status.RELEASED:
            return decision
        if status == Hold.Status.REFUSED:
            raise RiskRefused()
        error = RiskUnderReview(details={"reasons": list(decision.reasons), "reference": reference})
        error.decision = decision  # type: ignore[attr-defined]  # a caller that cannot hold releases it
        error.hold = {  # type: ignore[attr-defined]
            "owner": owner, "reference": reference, "kind": event.kind.value, "decision_id": decision.id,
            "reasons": list(decision.reasons), "user_id": event.user_id, "amount_fen": event.amount_fen,
            "counted": [list(c) for c in decision.counted],
        }  # fmt: skip
        raise error
    return decision


def hold_place(*, owner: str, reference: str, kind: str, decision_id: str, reasons: list[str],
               user_id: int | None, amount_fen: int, counted: list[list[Any]] | None = None) -> None:  # fmt: skip
    """Put ``reference`` in the review queue (once; a repeat changes nothing). ``counted``:
    what the held decisions added to the caps, given back if the hold is refused."""
    from apps.risk.models import Hold

    try:
        with transaction.atomic():
            Hold.objects.get_or_create(
                owner=owner, reference=reference,
                defaults={"kind": kind, "decision_id": decision_id, "reasons": reasons,
                          "user_id": user_id, "amount_fen": amount_fen, "counted": counted or []},
            )  # fmt: skip
    except IntegrityError:
        pass  # a racing twin placed it


def holds_on_review(fn: Callable[P, R]) -> Callable[P, R]:
    """Around a write service that calls ``enforce``: when a review escapes it (its
    transaction rolled back), write the hold, then let the error go on to the caller."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RiskUnderReview as review:
            hold = getattr(review, "hold", None)
            if hold is not None:
                hold_place(**hold)
            raise

    return wrapper


def _uncount(counted: tuple[tuple[str, int, int], ...]) -> None:
    """Best effort: without Redis the windows keep it."""
    from apps.risk import counters

    with contextlib.suppress(redis.RedisError):
        counters.release(counted)


def hold_answer(*, hold_id: int, release: bool, actor_id: int | None, note: str = "") -> Any:
    """An operator releases or refuses a held thing; the owner hears it through the outbox
    (in this transaction). Locks the hold row; a second answer is refused."""
    from apps.risk.models import Hold

    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise HoldNotFound()
        to = Hold.Status.RELEASED if release else Hold.Status.REFUSED
        audited_transition(
            hold, to, object_type="risk_hold", object_id=f"{hold.owner}:{hold.reference}",
            refused=lambda d: HoldStateRefused(details=d), actor_id=actor_id, after={"note": note},
        )  # fmt: skip
        hold.decided_by_id = actor_id
        hold.decided_at = timezone.now()
        hold.note = note[:200]
        hold.save(update_fields=["status", "decided_by", "decided_at", "note"])
        if not release and hold.counted:  # never happens: out of the caps' windows
            counted = tuple((str(k), int(b), int(i)) for k, b, i in hold.counted)
            transaction.on_commit(lambda: _uncount(counted))
        outbox.publish(
            f"risk.hold.{to}",
            {"owner": hold.owner, "reference": hold.reference, "kind": hold.kind, "amount_fen": hold.amount_fen,
             "note": hold.note},
            key=f"risk-hold:{hold.pk}:{to}",
        )  # fmt: skip
    return hold


def holds_expire(*, now: Any = None) -> int:
    """Refuse what has waited longer than ``RISK_HOLD_EXPIRY_HOURS`` unanswered (note
    ``expired``): the owner hears ``risk.hold.refused`` as for an operator's refusal. Each hold
    is answered in its own transaction; one an operator answered meanwhile is skipped."""
    from datetime import timedelta

    from django.conf import settings

    from apps.risk.models import Hold

    cutoff = (now or timezone.now()) - timedelta(hours=settings.RISK_HOLD_EXPIRY_HOURS)
    expired = 0
    for hold_id in Hold.objects.filter(status=Hold.Status.HELD, created_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        try:
            hold_answer(hold_id=hold_id, release=False, actor_id=None, note="expired")
        except HoldStateRefused:
            continue
        expired += 1
    return expired
