"""Kernel tables: audit events, idempotency records, dead letters, the outbox and task runs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who changed what, from which state to which, and when. Append-only.

    The table is range-partitioned by Asia/Shanghai day on ``created_at`` with primary key
    ``(created_at, id)`` (migration 0006, ``apps.core.partitions``); the model keeps ``id`` as
    its key (one identity sequence keeps ids unique; an index on ``id`` finds one). Read it
    bounded by time where possible (``audit_trail(since=...)``) so the read prunes to the days
    it needs.
    """

    actor_id = models.BigIntegerField(_("actor"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("actor name"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)  # the key starts with it

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class IdempotencyRecord(models.Model):
    """The first result of an operation under ``(scope, key)``; repeats return it."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class DeadLetter(models.Model):
    """A Celery task that ended in an error after its retries: kept for an operator to retry
    (re-enqueue with the same arguments) or discard."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RETRIED = "retried", _("Re-enqueued")
        DISCARDED = "discarded", _("Discarded")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.RETRIED, Status.DISCARDED}),
        Status.RETRIED: frozenset(),
        Status.DISCARDED: frozenset(),
    }

    task_name = models.CharField(max_length=200, db_index=True, verbose_name=_("task name"))
    task_id = models.CharField(max_length=64, unique=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    exception = models.TextField()
    traceback = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(
        help_text="Runs of the task, the first included", verbose_name=_("attempts")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"


class OutboxEvent(models.Model):
    """A fact or a task handed on, written in the transaction that decided it (see core.outbox).

    ``status`` becomes ``done`` once every handler of the topic has committed (or the named
    task finished), ``dead`` once its failures are exhausted (a ``DeadLetter`` names it).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        DEAD = "dead", _("Dead letter")

    id = models.UUIDField(primary_key=True)
    topic = models.CharField(max_length=200, verbose_name=_("event topic"))
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Runs started, counted first", verbose_name=_("attempts")
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to the broker", verbose_name=_("sent at")
    )
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))

    class Meta:
        indexes = [
            models.Index(
                fields=["sent_at"],
                condition=models.Q(status="pending"),
                name="core_outbox_pending_sent",
            )
        ]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"


class OutboxReceipt(models.Model):
    """One handler has applied one event: written in the handler's own transaction."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="core_outbox_receipt_once")
        ]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"


class TaskRun(models.Model):
    """A Celery task message being worked on: runs started and finished, counted in their own
    committed transactions. A run that started and never finished killed its worker."""

    task_id = models.CharField(max_length=64, primary_key=True)
    task_name = models.CharField(max_length=200)
    started = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
