"""The providers' daily bill files (T+1), downloaded for reconciliation (apps.settlement).

One GET per provider and day, outside any transaction, for the platform's merchant id at that
provider. The sandbox serves each provider's file in its own format at
``PAYMENTS_BILLS_URL/<method>/<YYYY-MM-DD>``; the production providers' two-step downloads
(Alipay's ``alipay.data.dataservice.bill.downloadurl.query``, WeChat Pay's
``/v3/bill/tradebill``, UnionPay's file transfer) are not wired yet: they end in the same file.
"""

from __future__ import annotations

import datetime as dt

import httpx
from django.conf import settings

from apps.payments.providers.base import ProviderUnavailable

BILL_METHODS = ("alipay", "wechat", "unionpay")


def merchant_id_for(method: str) -> str:
    """The platform's merchant id at ``method``'s provider (the account its bills are for)."""
    return {
        "alipay": settings.ALIPAY_APP_ID,
        "wechat": settings.WECHAT_MCH_ID,
        "unionpay": settings.UNIONPAY_MER_ID,
    }[method]


def bill_download(*, method: str, bill_date: dt.date) -> bytes:
    """The provider's bill of ``bill_date`` as bytes; ``ProviderUnavailable`` when it cannot
    be had now (network, 5xx), to retry later."""
    base = getattr(settings, "PAYMENTS_BILLS_URL", f"{settings.PAYMENTS_SANDBOX_URL}/sandbox/bills")
    try:
        response = httpx.get(
            f"{base.rstrip('/')}/{method}/{bill_date.isoformat()}",
            params={"merchant_id": merchant_id_for(method)},
            timeout=float(settings.PAYMENTS_HTTP_TIMEOUT_SECONDS) * 4,
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(details={"method": method, "error": str(exc)[:200]}) from exc
    if response.status_code != 200:
        raise ProviderUnavailable(details={"method": method, "status": response.status_code})
    return response.content
