"""Enterprise business: prepaid accounts and bulk distribution of data packs from a file."""

from django.apps import AppConfig


class EnterpriseConfig(AppConfig):
    name = "apps.enterprise"
    verbose_name = "政企业务"

    def ready(self) -> None:
        from apps.enterprise import todos

        todos.register()
