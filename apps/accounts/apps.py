"""People: users by mobile number, SMS sign-in, roles, real-name identity."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.accounts.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="accounts.roles_sync")
