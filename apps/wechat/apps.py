"""The WeChat official account (公众号): its server endpoint, OAuth binding, template messages
and custom menu, all through wechatpy (docs/wechat.md)."""

from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "apps.wechat"
    verbose_name = "微信公众号"

    def ready(self) -> None:
        import apps.wechat.handlers  # noqa: F401  (outbox handlers register at import)
