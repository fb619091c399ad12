"""An Alipay asynchronous notification of a successful payment, signed as the sandbox signs it.

Plain Python and ``cryptography`` only: the locust users (in their own virtualenv, without
Django), the payments benchmark and the purchase statement test all build their bodies here.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SHANGHAI = ZoneInfo("Asia/Shanghai")


def load_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def signed_body(*, key: Any, app_id: str, public_id: str, amount_fen: int, notify_id: str) -> str:
    """The form body (RSA2 over the sorted ``k=v`` pairs) of a TRADE_SUCCESS notification."""
    now = datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    yuan = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    fields = {
        "notify_time": now, "notify_type": "trade_status_sync", "notify_id": notify_id,
        "app_id": app_id, "charset": "utf-8", "version": "1.0",
        "trade_no": f"2026{time.time_ns()}", "out_trade_no": public_id,
        "trade_status": "TRADE_SUCCESS", "total_amount": yuan, "receipt_amount": yuan,
        "gmt_payment": now, "subject": "bench", "buyer_id": "2088000000000000",
    }  # fmt: skip
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items())).encode()
    sign = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return urlencode({**fields, "sign_type": "RSA2", "sign": base64.b64encode(sign).decode()})
