"""The capability-open gateway: partners, apps, credentials, packages, metering, CAMARA APIs."""

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "apps.gateway"
    verbose_name = "能力开放网关"

    def ready(self) -> None:
        # The capabilities follow the carrier's SMS and calls and own "gateway" payments;
        # the lower layers tell them through these registries (they import nothing above).
        from apps.carrier.services import sms_status_listen
        from apps.carrier.voice import call_event_listen
        from apps.gateway import billing, callback_tasks, messaging, voice
        from apps.payments.handlers import purpose_register

        sms_status_listen(messaging.sms_status_changed)
        call_event_listen(voice.call_event)
        purpose_register(billing.PURPOSE, billing.HANDLER)
        assert callback_tasks  # registers the callback tasks with Celery
