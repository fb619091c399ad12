"""Settlement: revenue-share rules, settlement batches and statements, finance reports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    name = "apps.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self) -> None:
        from apps.settlement import todos

        todos.register()
