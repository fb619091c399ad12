"""Kernel: money, errors, idempotency, audit events, Redis and task helpers."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "核心"
