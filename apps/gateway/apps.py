"""The capability-open gateway: partners, apps, credentials, packages, metering, CAMARA APIs."""

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "apps.gateway"
    verbose_name = "能力开放网关"
