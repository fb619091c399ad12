"""Provider adapters by method; each is built once per configuration from settings."""

from __future__ import annotations

from apps.payments.providers.base import Provider

PROVIDER_METHODS = ("alipay", "wechat", "unionpay")


def get_provider(method: str) -> Provider:
    """The adapter for ``method`` ("alipay", "wechat" or "unionpay")."""
    if method == "alipay":
        from apps.payments.providers.alipay import AlipayProvider

        return AlipayProvider.from_settings()
    if method == "wechat":
        from apps.payments.providers.wechat import WechatProvider

        return WechatProvider.from_settings()
    if method == "unionpay":
        from apps.payments.providers.unionpay import UnionpayProvider

        return UnionpayProvider.from_settings()
    raise LookupError(f"no provider adapter for {method!r}")
