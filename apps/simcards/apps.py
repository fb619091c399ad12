"""The SIM-card number pool: numbers for sale, holds during checkout, sales and activation state."""

from django.apps import AppConfig


class SimcardsConfig(AppConfig):
    name = "apps.simcards"
    verbose_name = "号卡"
