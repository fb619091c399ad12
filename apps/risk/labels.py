"""Labels: complaints, chargebacks and refunds marked fraud, recorded once and fed to the scores.

A label is ground truth for backtests and for the nightly complaint, fraud and chargeback
rates (``cases.anomalies_find``). It also raises its number's risk score (``LABEL_POINTS``),
which the rules read as ``score``: a number with a chargeback or a refund marked fraud meets
``score >= 20`` rules at its next decision. The label names the subscriber, the number and the
device (and the CP or product whose rates it counts in); what the caller left out is taken
from the latest decision recorded about ``reference``.

The points are durable: a label's row says whether they reached the score
(``points_applied_at``). They are applied after commit; when Redis is unreachable the row stays
pending and the beat job ``risk-label-points`` applies them when Redis answers again. Exactly
once: one script adds them only if the label's marker key is not set yet and sets it, so a
second run (or a worker that died between Redis and marking the row) adds nothing more.
"""

from __future__ import annotations

import redis
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import InvalidArgument
from apps.core.redis import get_redis
from apps.risk.cases import SCORE_TTL_SECONDS
from apps.risk.counters import score_key
from apps.risk.events import canonical_msisdn

# What one label adds to its number's score. A chargeback is fraud the card scheme or the
# carrier confirmed: it weighs as a refund an operator marked fraud.
LABEL_POINTS = {"complaint": 10.0, "refund_fraud": 20.0, "chargeback": 20.0}


# The label's marker outlives any retry (the score itself lives 7 days after its last change).
MARKER_TTL_SECONDS = 30 * 86400
_APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[3])) then
  redis.call('INCRBYFLOAT', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
  return 1
end
return 0
"""


def _points_apply(label_id: int, msisdn: str, points: float) -> bool:
    """Add the label's points to its number's score, once, and mark the row; False (the row
    left pending) when Redis is unreachable."""
    from apps.risk.models import Label

    try:
        get_redis().register_script(_APPLY_ONCE)(
            keys=[f"risk:label-points:{label_id}", score_key(msisdn)],
            args=[points, SCORE_TTL_SECONDS, MARKER_TTL_SECONDS],
        )
    except redis.RedisError:
        return False
    Label.objects.filter(pk=label_id, points_applied_at__isnull=True).update(
        points_applied_at=timezone.now()
    )
    return True


def label_points_apply_pending(*, limit: int = 500) -> int:
    """Apply the points of labels whose Redis update failed (beat job); returns how many were
    settled. Stops at the first failure: Redis is still down."""
    from apps.risk.models import Label

    settled = 0
    for pk, msisdn, source in (
        Label.objects.filter(points_applied_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "msisdn", "source")[:limit]
    ):
        if not _points_apply(pk, msisdn, LABEL_POINTS[source]):
            break
        settled += 1
    return settled


def _seen(reference: str) -> dict[str, object]:
    """Who and what the latest decisions recorded about ``reference`` were for: per field, the
    latest that knew it (a refund request knows the device, the charge its CP and product)."""
    from apps.risk.models import DecisionRecord

    seen: dict[str, object] = {}
    for row in (
        DecisionRecord.objects.filter(reference=reference)
        .order_by("-created_at")
        .values("msisdn", "user_id", "device_id", "cp_id", "product")[:20]
    ):
        for field in ("msisdn", "user_id", "device_id"):
            if row[field] and not seen.get(field):
                seen[field] = row[field]
        if row["cp_id"] and "cp_id" not in seen:  # the CP and product of one decision
            seen["cp_id"], seen["product"] = row["cp_id"], row["product"]
    return seen


def label_record(
    *,
    source: str,
    origin: str,
    reference: str,
    msisdn: str = "",
    cp_id: str = "",
    product: str = "",
    note: str = "",
    user_id: int | None = None,
    device_id: str = "",
    actor_id: int | None = None,
) -> bool:
    """A label of ``source`` (``complaint``, ``chargeback``, ``refund_fraud``) about the
    thing ``reference`` names, for backtests, the nightly rates and the number's score.
    Once per ``origin``: a repeat changes nothing and returns False. Audited; the score
    moves after commit, or, with Redis unreachable, when the beat job finds it pending."""
    from apps.risk.models import Label

    if source not in Label.Source.values:
        raise InvalidArgument(f"Unknown label source {source!r}.")
    if not origin.strip() or not reference.strip():
        raise InvalidArgument("A label needs an origin and a reference.")
    if not (msisdn and user_id and device_id and (cp_id or product)):
        seen = _seen(reference[:64])
        msisdn = msisdn or str(seen.get("msisdn") or "")
        user_id = user_id or seen.get("user_id")  # type: ignore[assignment]
        device_id = device_id or str(seen.get("device_id") or "")
        if not (cp_id or product):
            cp_id, product = str(seen.get("cp_id") or ""), str(seen.get("product") or "")
    msisdn = canonical_msisdn(msisdn) if msisdn else ""
    points = LABEL_POINTS.get(source, 0.0) if msisdn else 0.0
    try:
        with transaction.atomic():
            label, created = Label.objects.get_or_create(
                origin=origin[:64],
                defaults={"source": source, "reference": reference[:64], "msisdn": msisdn[:20],
                          "user_id": user_id, "device_id": device_id[:64], "cp_id": cp_id[:40],
                          "product": product[:64], "note": note[:200],
                          "points_applied_at": None if points else timezone.now()},
            )  # fmt: skip
            if created:
                audit_record(
                    action=f"risk.label.{source}", object_type="risk_label", object_id=origin[:64],
                    actor_id=actor_id, after={"reference": label.reference, "msisdn": label.msisdn,
                                              "device_id": label.device_id, "note": label.note},
                )  # fmt: skip
    except IntegrityError:
        return False  # a racing twin recorded it
    if created and points:
        transaction.on_commit(lambda: _points_apply(label.pk, msisdn, points))
    return created


def complaint_label(
    *,
    origin: str,
    reference: str,
    msisdn: str = "",
    cp_id: str = "",
    product: str = "",
    note: str = "",
) -> None:
    """A subscriber complained about a charge (``origin`` names the ticket): a label for
    backtests, and one in the CP's or product's complaint rate. Once per origin."""
    label_record(source="complaint", origin=origin, reference=reference, msisdn=msisdn,
                 cp_id=cp_id, product=product, note=note)  # fmt: skip
