"""The marketing app: campaigns, coupons, flash sales (layer 3, beside the catalog)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "apps.marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from apps.marketing import handlers  # noqa: F401  (registers the outbox handlers)
