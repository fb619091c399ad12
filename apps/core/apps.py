"""Kernel: money, errors, idempotency, audit events, Redis and task helpers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from celery.signals import task_failure

        from apps.core import schema  # noqa: F401  (registers the OpenAPI extensions)
        from apps.core.deadletters import on_task_failure

        task_failure.connect(on_task_failure, dispatch_uid="core.dead_letters")

        from apps.core import workbench
        from apps.core.models import DeadLetter, OutboxEvent

        # Role names are accounts' (a higher layer): "operator" is Role.OPERATOR.
        workbench.register_todo(
            "core.dead_letters",
            _("Failed tasks (dead letters)"),
            DeadLetter.objects.filter(status=DeadLetter.Status.OPEN).count,
            "/admin/core/deadletter/?status__exact=open",
            {"operator"},
        )
        workbench.register_todo(
            "core.outbox_dead",
            _("Events given up (outbox)"),
            OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).count,
            "/admin/core/outboxevent/?status__exact=dead",
            {"operator"},
        )
