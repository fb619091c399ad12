"""Insight: rollups over the whole flow, the workbench home page per role and its charts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from apps.analytics import figures

        figures.register()
