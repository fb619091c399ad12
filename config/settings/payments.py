"""Payment provider settings. Unset keys fall back to dev keys under var/keys/ (sandbox only)."""

from __future__ import annotations

import environ

env = environ.Env()

# The sandbox plays every provider on the carrier sandbox's port unless told otherwise.
PAYMENTS_SANDBOX_URL = env.str(
    "PAYMENTS_SANDBOX_URL", default=env.str("CARRIER_BASE_URL", default="http://127.0.0.1:8100")
).rstrip("/")
# Where providers send asynchronous notifications and browsers come back to.
PAYMENTS_PUBLIC_BASE_URL = env.str(
    "PAYMENTS_PUBLIC_BASE_URL",
    default=env.str("CARRIER_CALLBACK_BASE_URL", default="http://127.0.0.1:8000"),
).rstrip("/")
PAYMENTS_HTTP_TIMEOUT_SECONDS = env.float("PAYMENTS_HTTP_TIMEOUT_SECONDS", default=5.0)

# Alipay (python-alipay-sdk, RSA2).
ALIPAY_APP_ID = env.str("ALIPAY_APP_ID", default="2021000000000001")
ALIPAY_GATEWAY = env.str("ALIPAY_GATEWAY", default=f"{PAYMENTS_SANDBOX_URL}/alipay/gateway.do")
ALIPAY_APP_PRIVATE_KEY = env.str("ALIPAY_APP_PRIVATE_KEY", multiline=True, default="")  # PEM
ALIPAY_PUBLIC_KEY = env.str("ALIPAY_PUBLIC_KEY", multiline=True, default="")  # Alipay's, PEM

# WeChat Pay APIv3 (wechatpayv3), public-key verification mode.
WECHAT_MCH_ID = env.str("WECHAT_MCH_ID", default="1900000001")
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="wx0000000000000001")
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default=f"{PAYMENTS_SANDBOX_URL}/wechat")
WECHAT_MCH_PRIVATE_KEY = env.str("WECHAT_MCH_PRIVATE_KEY", multiline=True, default="")
WECHAT_MCH_CERT_SERIAL = env.str(
    "WECHAT_MCH_CERT_SERIAL", default="5A1F0000000000000000SANDBOX0001"
)
WECHAT_APIV3_KEY = env.str("WECHAT_APIV3_KEY", default="")
WECHAT_PLATFORM_PUBLIC_KEY = env.str("WECHAT_PLATFORM_PUBLIC_KEY", multiline=True, default="")
WECHAT_PLATFORM_PUBLIC_KEY_ID = env.str(
    "WECHAT_PLATFORM_PUBLIC_KEY_ID", default="PUB_KEY_ID_0119000000000000SANDBOX"
)

# UnionPay gateway, signMethod 01 (RSA-SHA256) built on cryptography.
UNIONPAY_MER_ID = env.str("UNIONPAY_MER_ID", default="777290058110048")
UNIONPAY_GATEWAY = env.str(
    "UNIONPAY_GATEWAY", default=f"{PAYMENTS_SANDBOX_URL}/unionpay/gateway/api"
)
UNIONPAY_MERCHANT_PRIVATE_KEY = env.str("UNIONPAY_MERCHANT_PRIVATE_KEY", multiline=True, default="")
# The merchant's signing certificate (PEM, out of its .pfx): its serial is the merchant's certId.
UNIONPAY_MERCHANT_CERT = env.str("UNIONPAY_MERCHANT_CERT", multiline=True, default="")
# UnionPay's root and middle certificates (PEM, acp_prod_root.cer and acp_prod_middle.cer; one or
# more each): the signing certificate each UnionPay message brings must chain to them.
UNIONPAY_ROOT_CERT = env.str("UNIONPAY_ROOT_CERT", multiline=True, default="")
UNIONPAY_MIDDLE_CERT = env.str("UNIONPAY_MIDDLE_CERT", multiline=True, default="")
# The signing certificate's CN must name 中国银联股份有限公司; False also accepts 00040000:SIGN,
# the name on the certificates of UnionPay's test environment.
UNIONPAY_VALIDATE_CN_NAME = env.bool("UNIONPAY_VALIDATE_CN_NAME", default=True)
