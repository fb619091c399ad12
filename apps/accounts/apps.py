"""People: users by mobile number, SMS sign-in, roles, real-name identity."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_delete, post_migrate, post_save

        from apps.accounts.current import request_user_forget
        from apps.accounts.models import ApiToken, User
        from apps.accounts.roles import roles_sync
        from apps.accounts.token_cache import token_saved, user_deleted, user_saved

        post_migrate.connect(roles_sync, dispatch_uid="accounts.roles_sync")
        request_started.connect(request_user_forget, dispatch_uid="accounts.user_forget_start")
        request_finished.connect(request_user_forget, dispatch_uid="accounts.user_forget_end")
        post_save.connect(user_saved, sender=User, dispatch_uid="accounts.token_cache_user")
        post_delete.connect(user_deleted, sender=User, dispatch_uid="accounts.token_cache_del")
        post_save.connect(token_saved, sender=ApiToken, dispatch_uid="accounts.token_cache_token")
        post_delete.connect(
            user_deleted, sender=ApiToken, dispatch_uid="accounts.token_cache_token_del"
        )
