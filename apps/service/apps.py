"""Customer service: the help centre, tickets on orders, electronic invoices, the points page."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "apps.service"
    label = "service"
    verbose_name = _("Customer service")

    def ready(self) -> None:
        from apps.service import todos

        todos.register()
