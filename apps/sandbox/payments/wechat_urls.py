"""Routes of the sandbox's WeChat Pay: the APIv3 paths under ``v3/``, the cashier, the JSAPI bridge."""

from django.urls import URLPattern, path

from apps.sandbox.payments import wechat, wechat_notify

urlpatterns: list[URLPattern] = [
    path(
        "v3/pay/transactions/native",
        wechat.transaction_create,
        {"channel": "native"},
        name="wechat-pay-native",
    ),
    path(
        "v3/pay/transactions/h5", wechat.transaction_create, {"channel": "h5"}, name="wechat-pay-h5"
    ),
    path(
        "v3/pay/transactions/jsapi",
        wechat.transaction_create,
        {"channel": "jsapi"},
        name="wechat-pay-jsapi",
    ),
    path(
        "v3/pay/transactions/out-trade-no/<str:out_trade_no>",
        wechat.transaction_query,
        name="wechat-pay-query",
    ),
    path(
        "v3/pay/transactions/out-trade-no/<str:out_trade_no>/close",
        wechat.transaction_close,
        name="wechat-pay-close",
    ),
    path("v3/refund/domestic/refunds", wechat.refund_create, name="wechat-refund"),
    path(
        "v3/refund/domestic/refunds/<str:out_refund_no>",
        wechat.refund_query,
        name="wechat-refund-query",
    ),
    path("cashier/<str:trade_no>", wechat_notify.cashier, name="wechat-cashier"),
    path("jsapi-bridge", wechat_notify.jsapi_bridge, name="wechat-jsapi-bridge"),
]
