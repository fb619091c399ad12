"""Risk tables: recorded decisions (partitioned), lists, caps, rules, holds, cases, labels."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.risk.events import Kind, Outcome

KIND_CHOICES = [(k.value, k.value) for k in Kind]
OUTCOME_CHOICES = [(o.value, o.value) for o in Outcome]


class DecisionRecord(models.Model):
    """One ``decide`` call, as decided. Append-only; range-partitioned by month on
    ``created_at`` like the gateway's call records (see ``apps.core.partitions``).

    ``context`` holds the fields the rules saw (counters included), so that a backtest
    evaluates a draft rule on what was known at the time.
    """

    pk = models.CompositePrimaryKey("created_at", "id")
    created_at = models.DateTimeField()
    id = models.UUIDField(default=uuid.uuid4)
    kind = models.CharField(max_length=24, choices=KIND_CHOICES)
    outcome = models.CharField(max_length=12, choices=OUTCOME_CHOICES)
    reasons = ArrayField(models.CharField(max_length=64), default=list)
    rules = ArrayField(models.CharField(max_length=80), default=list)
    shadow_rules = ArrayField(models.CharField(max_length=80), default=list)
    degraded = models.BooleanField(default=False)
    user_id = models.BigIntegerField(null=True)
    msisdn = models.CharField(max_length=20, blank=True)
    device_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    cp_id = models.CharField(max_length=40, blank=True)
    partner_id = models.CharField(max_length=40, blank=True)
    product = models.CharField(max_length=64, blank=True)
    amount_fen = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True)
    context = models.JSONField(default=dict)
    latency_us = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("risk decision")
        verbose_name_plural = _("risk decisions")
        indexes = [
            models.Index(fields=["kind", "created_at"], name="risk_dec_kind_time"),
            models.Index(fields=["reference"], name="risk_dec_reference"),
            models.Index(fields=["msisdn", "created_at"], name="risk_dec_msisdn_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome} @{self.created_at:%Y-%m-%d %H:%M:%S}"


class ListEntry(models.Model):
    """A block, allow or watch entry for one value of one dimension."""

    class Action(models.TextChoices):
        BLOCK = "block", _("block")
        ALLOW = "allow", _("allow")
        WATCH = "watch", _("watch")

    class Dimension(models.TextChoices):
        MSISDN = "msisdn", _("MSISDN")
        PREFIX = "prefix", _("number prefix")
        DEVICE = "device", _("device id")
        IP = "ip", _("IP or CIDR")
        ID_HASH = "id_hash", _("ID-number hash")
        CP = "cp", _("content provider")
        PARTNER = "partner", _("partner app")

    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension.choices)
    value = models.CharField(_("value"), max_length=64)
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("source"), max_length=40, default="workbench")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("added by"),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["action", "dimension", "value"], name="risk_list_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.dimension}={self.value}"


class Cap(models.Model):
    """A count or amount a subject may reach over a sliding window, counted in Redis.

    Without a ``limit`` the cap only counts: rules read it as ``counters["<code>"]``.
    """

    class Dimension(models.TextChoices):
        USER = "user_id", _("subscriber")
        MSISDN = "msisdn", _("MSISDN")
        DEVICE = "device_id", _("device id")
        IP = "ip", _("IP")
        CP = "cp_id", _("content provider")
        PARTNER = "partner_id", _("partner")
        PRODUCT = "product", _("product")

    class Window(models.TextChoices):
        MINUTE = "minute", _("minute")
        HOUR = "hour", _("hour")
        DAY = "day", _("day")
        MONTH = "month", _("month (30 days)")

    class Metric(models.TextChoices):
        COUNT = "count", _("count")
        AMOUNT = "amount", _("amount (fen)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kinds = ArrayField(
        models.CharField(max_length=24, choices=KIND_CHOICES), verbose_name=_("kinds")
    )
    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension.choices)
    window = models.CharField(_("window"), max_length=8, choices=Window.choices)
    metric = models.CharField(_("metric"), max_length=8, choices=Metric.choices)
    limit = models.BigIntegerField(_("limit"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome over the limit"), max_length=12, choices=OUTCOME_CHOICES, default=Outcome.BLOCK
    )
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cap")
        verbose_name_plural = _("caps")

    def __str__(self) -> str:
        return self.code


class Rule(models.Model):
    """One version of a rule: an expression over the event's fields (rule-engine syntax).

    A new version starts as a draft; ``shadow`` is evaluated and recorded but changes no
    decision; ``active`` decides; ``retired`` is history. At most one version of a code is
    active and one in shadow at a time. Versions are never edited once out of draft.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SHADOW = "shadow", _("shadow")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    TRANSITIONS = {
        State.DRAFT: frozenset({State.SHADOW, State.ACTIVE, State.RETIRED}),
        State.SHADOW: frozenset({State.ACTIVE, State.RETIRED}),
        State.ACTIVE: frozenset({State.RETIRED}),
        State.RETIRED: frozenset(),
    }

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.DRAFT)
    description = models.CharField(_("description"), max_length=200, blank=True)
    kinds = ArrayField(
        models.CharField(max_length=24, choices=KIND_CHOICES), blank=True, default=list,
        verbose_name=_("kinds"), help_text=_("empty: every kind"),
    )  # fmt: skip
    expression = models.TextField(_("expression"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=OUTCOME_CHOICES)
    reason_code = models.CharField(_("reason code"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="risk_rule_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(state="active"), name="risk_rule_one_active"
            ),
            models.UniqueConstraint(
                fields=["code"], condition=Q(state="shadow"), name="risk_rule_one_shadow"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}@{self.version}"


class Label(models.Model):
    """Ground truth for backtests and complaint rates: a complaint, chargeback or a refund
    marked fraud, about the thing ``reference`` names, and on whom: the subscriber, the number
    (whose risk score it raises) and the device."""

    class Source(models.TextChoices):
        COMPLAINT = "complaint", _("complaint")
        CHARGEBACK = "chargeback", _("chargeback")
        REFUND_FRAUD = "refund_fraud", _("refund marked fraud")

    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    cp_id = models.CharField(max_length=40, blank=True, verbose_name=_("content provider"))
    product = models.CharField(max_length=64, blank=True, verbose_name=_("product"))
    msisdn = models.CharField(max_length=20, blank=True, verbose_name=_("MSISDN"))
    user_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("subscriber"))
    device_id = models.CharField(max_length=64, blank=True, verbose_name=_("device id"))
    note = models.CharField(max_length=200, blank=True)
    origin = models.CharField(
        max_length=64,
        help_text="what made it (a ticket's number)",
        unique=True,
        verbose_name=_("origin"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # When its points reached the number's score in Redis (set at once for a label with none
    # to give); empty while Redis was unreachable: ``labels.label_points_apply_pending`` (beat)
    # applies them when it is back, once.
    points_applied_at = models.DateTimeField(_("points applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        indexes = [
            models.Index(
                fields=["id"],
                name="risk_label_points_pending",
                condition=Q(points_applied_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.reference}"


class Hold(models.Model):
    """Something a ``review`` decision stopped: an order, payment, charge or refund waiting
    for an operator to release or refuse it. The owner (the app that asked) registered what
    each answer does (``apps.risk.holds``); risk knows no owner."""

    class Status(models.TextChoices):
        HELD = "held", _("held")
        RELEASED = "released", _("released")
        REFUSED = "refused", _("refused")

    TRANSITIONS = {
        Status.HELD: frozenset({Status.RELEASED, Status.REFUSED}),
        Status.RELEASED: frozenset(),
        Status.REFUSED: frozenset(),
    }

    owner = models.CharField(_("owner"), max_length=40)
    reference = models.CharField(_("reference"), max_length=64)
    kind = models.CharField(_("kind"), max_length=24, choices=KIND_CHOICES)
    decision_id = models.UUIDField()
    reasons = ArrayField(models.CharField(max_length=64), default=list, verbose_name=_("reasons"))
    user_id = models.BigIntegerField(null=True, blank=True)
    amount_fen = models.BigIntegerField(_("amount (fen)"), default=0)
    # What the held decisions added to the caps' windows ([key, bucket, increment], as
    # ``Decision.counted``): a refusal gives it back, since the thing never happens.
    counted = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.HELD
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review hold")
        verbose_name_plural = _("review queue")
        constraints = [
            models.UniqueConstraint(fields=["owner", "reference"], name="risk_hold_owner_reference")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="risk_hold_status_time")]

    def __str__(self) -> str:
        return f"{self.owner} {self.reference} ({self.status})"


class Case(models.Model):
    """An anomaly the nightly job found (or an operator opened): one per anomaly, subject and
    day. Its outcome feeds the lists."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", _("no action")
        LIST_ENTRY = "list_entry", _("list entry added")
        CP_WARNED = "cp_warned", _("CP warned")
        CP_SUSPENDED = "cp_suspended", _("CP suspended")
        REFUNDS = "refunds", _("refunds issued")

    anomaly = models.CharField(_("anomaly"), max_length=40)
    subject = models.CharField(_("subject"), max_length=80)
    day = models.DateField(_("day"))
    title = models.CharField(_("title"), max_length=200)
    evidence = models.JSONField(_("evidence"), default=dict)
    references = ArrayField(
        models.CharField(max_length=64), default=list, blank=True, verbose_name=_("linked orders")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("assignee"),
    )  # fmt: skip
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["anomaly", "subject", "day"], name="risk_case_once_a_day"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="risk_case_status_time")]

    def __str__(self) -> str:
        return self.title


class CpWarning(models.Model):
    """A CP warned by a risk case (outcome "CP warned"): shown in the CP's console; the
    ``RISK_CP_WARNINGS_BEFORE_SUSPENSION``-th warning suspends the CP. One per case."""

    cp_id = models.CharField(_("content provider"), max_length=40, db_index=True)
    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="warning", verbose_name=_("case")
    )
    reason = models.CharField(_("reason"), max_length=200)
    suspended = models.BooleanField(_("led to suspension"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("warned by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("CP warning")
        verbose_name_plural = _("CP warnings")

    def __str__(self) -> str:
        return f"CP {self.cp_id}: {self.reason}"
