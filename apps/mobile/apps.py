"""The subscriber's own mobile services online: balance, bills, data usage, plan and add-ons."""

from django.apps import AppConfig


class MobileConfig(AppConfig):
    name = "apps.mobile"
    verbose_name = "移动业务"
