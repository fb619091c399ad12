"""App config for the sandbox that stands in for the carrier's network."""

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "apps.sandbox"
    label = "sandbox"
    verbose_name = "运营商网络沙箱"
    default_auto_field = "django.db.models.BigAutoField"
