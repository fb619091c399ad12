"""Kernel: money, errors, idempotency, audit events, Redis and task helpers."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from celery.signals import task_failure

        from apps.core.deadletters import on_task_failure

        task_failure.connect(on_task_failure, dispatch_uid="core.dead_letters")
