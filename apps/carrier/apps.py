"""Adapters to the carrier network (BOSS, SMSC, HLR) reached over HTTP."""

from django.apps import AppConfig


class CarrierConfig(AppConfig):
    name = "apps.carrier"
    verbose_name = "运营商网络"

    def ready(self) -> None:
        from apps.carrier.client import get_carrier_client
        from apps.core.health import health_register

        health_register("carrier", lambda: get_carrier_client().ping())
