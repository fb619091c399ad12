"""Payments: intents, provider notifications, refunds; owners register what success means."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    verbose_name = "支付"

    def ready(self) -> None:
        from apps.payments import risk_handlers, todos  # noqa: F401  (outbox handlers register)

        todos.register()
