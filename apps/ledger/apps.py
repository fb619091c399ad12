"""The double-entry book: accounts, balanced journals, balances."""

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    verbose_name = "总账"
