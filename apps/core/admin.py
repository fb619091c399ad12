"""Workbench: the audit trail and the outbox, read-only; dead letters to re-enqueue or discard."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core import deadletters
from apps.core.errors import DomainError
from apps.core.models import AuditEvent, DeadLetter, OutboxEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """A page to look at rows that only services write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "object_type", "object_id", "actor_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]
    date_hierarchy = "created_at"


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Tasks that exhausted their retries: re-enqueue them, or discard them (both audited)."""

    list_display = [
        "created_at",
        "task_name",
        "status",
        "attempts",
        "short_exception",
        "resolved_at",
    ]
    list_filter = ["status", "task_name"]
    search_fields = ["task_name", "task_id", "exception"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["retry", "discard"]

    @admin.display(description=_("exception"))
    def short_exception(self, obj: DeadLetter) -> str:
        return obj.exception[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _each(
        self, request: HttpRequest, queryset: QuerySet[DeadLetter], service: Any, done: str
    ) -> None:
        for letter_id in queryset.values_list("pk", flat=True):
            try:
                service(dead_letter_id=letter_id, actor_id=request.user.pk)
            except DomainError as exc:
                messages.warning(request, f"{letter_id}: {exc.message}")
            else:
                messages.info(request, f"{letter_id}: {done}")

    @admin.action(description=_("Re-enqueue selected tasks"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._each(request, queryset, deadletters.dead_letter_retry, str(_("re-enqueued")))

    @admin.action(description=_("Discard selected dead letters"), permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._each(request, queryset, deadletters.dead_letter_discard, str(_("discarded")))


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    """Work handed on: what is still pending (the sweeper sends it again), done or dead (its
    dead letter above re-enqueues it)."""

    list_display = ["created_at", "topic", "status", "attempts", "sent_at", "done_at"]
    list_filter = ["status", "topic"]
    search_fields = ["id", "key", "topic"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
