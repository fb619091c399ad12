"""The capability-open gateway: partners, apps, credentials, packages, metering, CAMARA APIs."""

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "apps.gateway"
    verbose_name = "能力开放网关"

    def ready(self) -> None:
        # The capabilities follow the carrier's SMS and calls (outbox handlers, registered by
        # importing messaging and voice) and own "gateway" payments (a purpose registry).
        from apps.gateway import billing, callback_tasks, messaging, voice  # noqa: F401
        from apps.payments.handlers import purpose_register

        purpose_register(billing.PURPOSE, billing.HANDLER)
        assert callback_tasks  # registers the callback tasks with Celery

        from apps.gateway import todos

        todos.register()

        # A partner's program gets CAMARA's JSON error body on every capability path, even
        # when the request fails before the gateway's views (a database outage, a 500).
        from apps.core.views import json_paths_register
        from apps.gateway.capability_urls import CAPABILITY_PREFIXES

        json_paths_register(*(f"/{prefix}/" for prefix in CAPABILITY_PREFIXES), "/oauth2/")
