"""Demo data for the zero-config run; the top layer, so it may call every app's services."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "apps.demo"
    verbose_name = "演示数据"
