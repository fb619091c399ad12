"""Risk control: one decision call for every path that moves money or sends SMS."""

from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    verbose_name = "风控"

    def ready(self) -> None:
        from apps.risk import todos

        todos.register()
