"""Risk services: the decision call, and the writes behind lists, caps and rules."""

from __future__ import annotations

import contextlib
import csv
import io
import ipaddress
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import redis
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.audit import audit_record, audited_transition
from apps.core.errors import Conflict, InvalidArgument, NotFound
from apps.core.http import current_origin
from apps.risk import counters, recorder, snapshot
from apps.risk.cases import case_update
from apps.risk.engine import Compiled, RuleInvalid, evaluate, rule_compile
from apps.risk.events import (
    POLICIES,
    Decision,
    Event,
    Kind,
    Outcome,
    Severity,
    canonical_msisdn,
    fails_closed,
)
from apps.risk.holds import enforce, hold_answer, hold_place, holds_expire, holds_on_review
from apps.risk.labels import LABEL_POINTS, complaint_label, label_record

# What callers use through ``risk.services`` besides the functions defined here.
__all__ = [
    "LABEL_POINTS",
    "Decision",
    "Event",
    "Kind",
    "Outcome",
    "RuleInvalid",
    "case_update",
    "complaint_label",
    "enforce",
    "hold_answer",
    "hold_place",
    "holds_expire",
    "holds_on_review",
    "label_record",
]


def _stricter(a: str, b: str) -> str:
    return a if Severity[a] >= Severity[b] else b


def _carry_out(outcome: str, kind: Kind) -> Outcome:
    """The outcome the path can carry out: a challenge it cannot ask becomes a review, a
    review it cannot hold becomes a block."""
    policy = POLICIES[kind]
    if outcome == Outcome.CHALLENGE and not policy.challenge:
        outcome = Outcome.REVIEW
    if outcome == Outcome.REVIEW and not policy.review:
        outcome = Outcome.BLOCK
    return Outcome(outcome)


def _context(
    event: Event, now: datetime, watch: list[str], totals: dict[str, int], score: float,
    snap: snapshot.Snapshot,
) -> dict[str, Any]:  # fmt: skip
    local = timezone.localtime(now)
    return {
        "kind": event.kind.value,
        "user_id": float(event.user_id or 0),
        "msisdn": event.msisdn,
        "msisdn_prefix": event.msisdn[:3],
        "device_id": event.device_id,
        "ip": event.ip,
        "cp_id": event.cp_id,
        "partner_id": event.partner_id,
        "product": event.product,
        "amount_fen": event.amount_fen,
        "id_hash": event.id_hash,
        "reference": event.reference,
        "hour": local.hour,
        "weekday": local.isoweekday(),
        "watch": {label.split(":", 1)[0] for label in watch},
        "counters": {cap.code: totals.get(cap.code, 0) for cap in snap.caps},
        "score": score,
    }


@dataclass
class _Verdict:
    """What lists, caps and rules made of an event under one snapshot."""

    outcome: str = Outcome.ALLOW.value
    reasons: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    shadow: list[str] = field(default_factory=list)
    degraded: bool = False
    totals: dict[str, int] = field(default_factory=dict)
    counted: tuple[tuple[str, int, int], ...] = ()
    context: dict[str, Any] = field(default_factory=dict)
    stale_generation: int | None = None


def _judge(event: Event, now: datetime, snap: snapshot.Snapshot, *, compare: bool) -> _Verdict:
    """Lists, then caps and velocity (one Redis script, which also carries the buffered
    decision rows), then the active and shadow rules. With ``compare``, a snapshot older than
    Redis's generation makes the script count nothing: the verdict says so and is not used."""
    verdict = _Verdict()
    listed = snap.listed(event, now)
    for label in listed.get("block", ()):
        verdict.outcome = Outcome.BLOCK
        verdict.reasons.append(f"LIST_BLOCK_{label.split(':', 1)[0].upper()}")
        verdict.fired.append(f"list:{label}")
    score = 0.0
    if verdict.outcome != Outcome.BLOCK:
        counts = [
            counters.Count(
                code=cap.code,
                subject=str(value),
                window=cap.window,
                limit=cap.limit,
                increment=event.amount_fen if cap.metric == "amount" else 1,
            )
            for cap in snap.caps
            if event.kind in cap.kinds and (value := getattr(event, cap.dimension))
        ]
        rows = recorder.take()
        try:
            result = counters.check_and_count(
                counts,
                now=now.timestamp(),
                score_subject=event.msisdn,
                generation=snap.generation if compare else -1,
                rows=rows,
            )
        except redis.RedisError:
            recorder.give_back(rows)
            verdict.degraded = True
            if fails_closed(event.kind):
                verdict.outcome = Outcome.BLOCK
                verdict.reasons.append("RISK_UNAVAILABLE")
            else:
                verdict.reasons.append("RISK_DEGRADED")
        else:
            if result.stale:
                verdict.stale_generation = result.generation
                return verdict
            snapshot.confirmed(snap, result.generation)
            verdict.totals, score, verdict.counted = result.totals, result.score, result.counted
            caps = {cap.code: cap for cap in snap.caps}
            for code in result.over:
                verdict.outcome = _stricter(caps[code].outcome, verdict.outcome)
                verdict.reasons.append(f"CAP_{code.upper().replace('-', '_')}")
                verdict.fired.append(f"cap:{code}@{caps[code].version}")
    context = _context(event, now, listed.get("watch", []), verdict.totals, score, snap)
    if "allow" not in listed and verdict.outcome != Outcome.BLOCK:
        for rule in evaluate(snap.active, event.kind, context):
            verdict.outcome = _stricter(rule.outcome, verdict.outcome)
            verdict.reasons.append(rule.reason_code)
            verdict.fired.append(rule.label)
    verdict.shadow = [r.label for r in evaluate(snap.shadow, event.kind, context)]
    verdict.context = context
    return verdict


def decide(*, event: Event) -> Decision:
    """Decide on one event: lists, then caps and velocity (Redis), then the active rules;
    the shadow rules are evaluated and recorded beside. The strictest outcome wins, adapted
    to what the path can carry out (``events.POLICIES``). When Redis is down the kind fails
    open (caps not counted, rules still run) or closed (block), as configured. No
    transaction, no lock, no table read (but the first decision after a configuration change
    reloads it, ``snapshot``).

    Recorded without a round trip of its own when allowed (``recorder``: the row rides on a
    later decision's script or the process's writer); any other outcome stopped something,
    and its row is stored (Redis list, or the table when Redis is down) before this returns.
    """
    started = time.perf_counter()
    if event.msisdn and (not event.msisdn.isdigit() or event.msisdn.startswith("86")):
        event = replace(event, msisdn=canonical_msisdn(event.msisdn))
    if not (event.ip and event.device_id):  # what the caller left out, from the request
        origin = current_origin()
        if (origin.ip and not event.ip) or (origin.device_id and not event.device_id):
            event = replace(
                event, ip=event.ip or origin.ip, device_id=event.device_id or origin.device_id
            )
    now = timezone.now()
    snap = snapshot.current()
    verdict = _judge(event, now, snap, compare=True)
    if verdict.stale_generation is not None:
        snap = snapshot.reloaded(verdict.stale_generation, snap)
        verdict = _judge(event, now, snap, compare=False)
    final = _carry_out(verdict.outcome, event.kind)
    decision = Decision(
        id=str(uuid.uuid4()), kind=event.kind, outcome=final, reasons=tuple(verdict.reasons),
        rules=tuple(verdict.fired), shadow_rules=tuple(verdict.shadow), degraded=verdict.degraded,
        counted=verdict.counted, totals=verdict.totals,
    )  # fmt: skip
    context = verdict.context
    context["watch"] = sorted(context["watch"])
    recorder.record(
        {
            "created_at": now.isoformat(),
            "id": decision.id,
            "kind": event.kind.value,
            "outcome": final.value,
            "reasons": verdict.reasons,
            "rules": verdict.fired,
            "shadow_rules": verdict.shadow,
            "degraded": verdict.degraded,
            "user_id": event.user_id,
            "msisdn": event.msisdn,
            "device_id": event.device_id[:64],
            "ip": event.ip[:45],
            "cp_id": event.cp_id[:40],
            "partner_id": event.partner_id[:40],
            "product": event.product[:64],
            "amount_fen": event.amount_fen,
            "reference": event.reference[:64],
            "context": context,
            "latency_us": int((time.perf_counter() - started) * 1_000_000),
        },
        degraded=verdict.degraded,
        durable=final != Outcome.ALLOW,
    )
    return decision


def decision_release(*, decision: Decision) -> None:
    """The thing a decision allowed did not happen (the carrier refused the charge): take it
    back out of the caps' windows. Best effort: without Redis the windows keep it."""
    with contextlib.suppress(redis.RedisError):
        counters.release(decision.counted)


# --- configuration changes ------------------------------------------------------------------


def _changed() -> None:
    """This process drops its snapshot now and after commit (a reload inside the transaction
    sees the change already); the others see the generation move after commit."""
    snapshot.invalidate()

    def bump() -> None:
        snapshot.invalidate()
        with contextlib.suppress(redis.RedisError):
            counters.generation_bump()

    transaction.on_commit(bump)


class RuleNotFound(NotFound):
    code = "RISK_RULE_NOT_FOUND"


class RuleStateRefused(Conflict):
    code = "RISK_RULE_STATE"


def _cap_codes() -> list[str]:
    from apps.risk.models import Cap

    return list(Cap.objects.filter(active=True).values_list("code", flat=True))


def _kinds(kinds: list[str]) -> list[str]:
    unknown = sorted(set(kinds) - {k.value for k in Kind})
    if unknown:
        raise InvalidArgument(f"Unknown event kinds: {', '.join(unknown)}.")
    return list(kinds)


def rule_create(
    *, code: str, expression: str, outcome: str, reason_code: str, kinds: list[str],
    description: str = "", actor_id: int | None, why: str,
) -> Any:  # fmt: skip
    """A new draft version of rule ``code`` (version = last + 1). Refused with
    ``RuleInvalid`` when the expression does not compile; nothing is written then."""
    from apps.risk.models import Rule

    if outcome not in Outcome.__members__.values():
        raise InvalidArgument(f"Unknown outcome {outcome!r}.")
    if not why.strip():
        raise InvalidArgument("Say why the rule changes.")
    rule_compile(expression, counter_codes=_cap_codes())
    with transaction.atomic():
        last = Rule.objects.filter(code=code).aggregate(v=Max("version"))["v"] or 0
        rule = Rule.objects.create(
            code=code, version=last + 1, expression=expression.strip(), outcome=outcome,
            reason_code=reason_code, kinds=_kinds(kinds), description=description,
            created_by_id=actor_id,
        )  # fmt: skip
        audit_record(
            action="risk.rule.created", object_type="risk_rule", object_id=str(rule),
            actor_id=actor_id, after={"expression": rule.expression, "outcome": outcome, "why": why},
        )  # fmt: skip
    return rule


def rule_transition(*, rule_id: int, to: str, actor_id: int | None, why: str) -> Any:
    """Move a rule version along draft → shadow → active → retired. Going to shadow or
    active compiles it again (refused with ``RuleInvalid``, state unchanged) and retires the
    version of the same code that held that state. Audited with who and why."""
    from apps.risk.models import Rule

    if not why.strip():
        raise InvalidArgument("Say why the rule changes.")
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise RuleNotFound()
        if to in (Rule.State.SHADOW, Rule.State.ACTIVE):
            rule_compile(rule.expression, counter_codes=_cap_codes())
            for other in (
                Rule.objects.select_for_update()
                .filter(code=rule.code, state=to)
                .exclude(pk=rule.pk)
            ):
                audited_transition(
                    other, Rule.State.RETIRED, object_type="risk_rule", object_id=str(other),
                    refused=lambda d: RuleStateRefused(details=d), field="state",
                    actor_id=actor_id, after={"why": f"replaced by {rule}"},
                )  # fmt: skip
                other.save(update_fields=["state", "updated_at"])
        audited_transition(
            rule, to, object_type="risk_rule", object_id=str(rule),
            refused=lambda d: RuleStateRefused(details=d), field="state", actor_id=actor_id,
            after={"why": why},
        )  # fmt: skip
        rule.save(update_fields=["state", "updated_at"])
        _changed()
    return rule


_DIMENSIONS = {"msisdn", "prefix", "device", "ip", "id_hash", "cp", "partner"}
_ACTIONS = {"block", "allow", "watch"}


def _list_value(dimension: str, value: str) -> str:
    value = value.strip()
    if dimension not in _DIMENSIONS:
        raise InvalidArgument(f"Unknown dimension {dimension!r}.")
    if not value or len(value) > 64:
        raise InvalidArgument(f"The {dimension} value is empty or too long.")
    if dimension == "msisdn":
        value = canonical_msisdn(value) if value.lstrip("+").isdigit() else value
    if dimension in ("msisdn", "prefix") and not value.isdigit():
        raise InvalidArgument(f"{value!r} is not a number.")
    if dimension == "ip":
        try:
            return (
                str(ipaddress.ip_network(value, strict=False))
                if "/" in value
                else str(ipaddress.ip_address(value))
            )
        except ValueError as exc:
            raise InvalidArgument(f"{value!r} is not an IP address or CIDR block.") from exc
    return value


def list_entry_add(
    *, action: str, dimension: str, value: str, reason: str, source: str = "workbench",
    expires_at: datetime | None = None, actor_id: int | None,
) -> Any:  # fmt: skip
    """Add (or refresh: reason, source, expiry) one list entry; audited."""
    from apps.risk.models import ListEntry

    if action not in _ACTIONS:
        raise InvalidArgument(f"Unknown list action {action!r}.")
    value = _list_value(dimension, value)
    if not reason.strip():
        raise InvalidArgument("A list entry needs a reason.")
    with transaction.atomic():
        entry, _created = ListEntry.objects.update_or_create(
            action=action, dimension=dimension, value=value,
            defaults={"reason": reason.strip()[:200], "source": source[:40], "expires_at": expires_at, "added_by_id": actor_id},
        )  # fmt: skip
        audit_record(
            action="risk.list.added", object_type="risk_list", object_id=entry.pk, actor_id=actor_id,
            after={"entry": str(entry), "reason": entry.reason, "source": source, "expires_at": str(expires_at)},
        )  # fmt: skip
        _changed()
    return entry


def list_entry_remove(*, entry_id: int, actor_id: int | None, why: str) -> None:
    from apps.risk.models import ListEntry

    with transaction.atomic():
        entry = ListEntry.objects.filter(pk=entry_id).first()
        if entry is None:
            return
        audit_record(
            action="risk.list.removed", object_type="risk_list", object_id=entry.pk,
            actor_id=actor_id, before={"entry": str(entry)}, after={"why": why},
        )  # fmt: skip
        entry.delete()
        _changed()


def lists_import_csv(*, text: str, actor_id: int | None, source: str = "csv") -> int:
    """Import ``action,dimension,value,reason[,expires_at]`` rows (a header row is allowed).
    All rows are checked first: one bad row refuses the file, naming its line; nothing is
    written then. Returns the number of entries written."""
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "action":
            continue
        if len(row) < 4:
            raise InvalidArgument(
                f"Line {number}: expected action,dimension,value,reason[,expires_at]."
            )
        action, dimension, value, reason = (c.strip() for c in row[:4])
        expires = parse_datetime(row[4].strip()) if len(row) > 4 and row[4].strip() else None
        if len(row) > 4 and row[4].strip() and expires is None:
            raise InvalidArgument(f"Line {number}: {row[4]!r} is not a date and time.")
        if expires is not None and timezone.is_naive(expires):
            expires = timezone.make_aware(expires)
        try:
            if action not in _ACTIONS:
                raise InvalidArgument(f"unknown action {action!r}")
            value = _list_value(dimension, value)
            if not reason:
                raise InvalidArgument("a reason is needed")
        except InvalidArgument as exc:
            raise InvalidArgument(f"Line {number}: {exc.message}") from exc
        rows.append(
            {
                "action": action,
                "dimension": dimension,
                "value": value,
                "reason": reason,
                "expires_at": expires,
            }
        )
    with transaction.atomic():
        for values in rows:
            list_entry_add(**values, source=source, actor_id=actor_id)
    return len(rows)


def cap_saved(*, cap: Any, actor_id: int | None) -> None:
    """Save a cap edited in the workbench: a new version, audited, live at once."""
    with transaction.atomic():
        cap.version = (cap.version or 0) + 1 if cap.pk else 1
        cap.save()
        audit_record(
            action="risk.cap.saved", object_type="risk_cap", object_id=cap.code, actor_id=actor_id,
            after={"limit": cap.limit, "window": cap.window, "metric": cap.metric, "active": cap.active, "version": cap.version},
        )  # fmt: skip
        _changed()


# --- backtests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    events: int
    hits: int
    labelled: int
    true_positives: int
    precision: float | None
    recall: float | None


def backtest(*, expression: str, kinds: list[str], start: datetime, end: datetime) -> Backtest:
    """Run an expression over the decisions recorded in ``[start, end)`` (the context each
    had) and score it against the labels (complaints, chargebacks, refunds marked fraud) of
    their references. Refused with ``RuleInvalid`` when it does not compile."""
    from apps.risk.models import DecisionRecord, Label

    rule = Compiled(
        label="backtest", kinds=frozenset(_kinds(kinds)), outcome="block", reason_code="",
        rule=rule_compile(expression, counter_codes=_cap_codes()),
    )  # fmt: skip
    labelled_refs = set(Label.objects.values_list("reference", flat=True))
    rows = DecisionRecord.objects.filter(created_at__gte=start, created_at__lt=end)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    events = hits = labelled = true_positives = 0
    for kind, reference, context in rows.values_list("kind", "reference", "context").iterator(2000):
        events += 1
        context = {**context, "watch": set(context.get("watch", ()))}
        positive = bool(reference) and reference in labelled_refs
        labelled += positive
        if evaluate([rule], kind, context):
            hits += 1
            true_positives += positive
    return Backtest(
        events=events, hits=hits, labelled=labelled, true_positives=true_positives,
        precision=true_positives / hits if hits else None,
        recall=true_positives / labelled if labelled else None,
    )  # fmt: skip
