"""The marketing app: campaigns, coupons, flash sales (layer 3, beside the catalog)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "apps.marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from apps.marketing import handlers  # noqa: F401  (registers the outbox handlers)
        from apps.marketing.models import Campaign
        from apps.marketing.selectors import campaigns_forget

        post_save.connect(campaigns_forget, sender=Campaign, dispatch_uid="marketing.forget_save")
        post_delete.connect(campaigns_forget, sender=Campaign, dispatch_uid="marketing.forget_del")
