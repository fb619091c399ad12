"""People: users by mobile number, SMS sign-in, roles, real-name identity."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "用户与权限"
