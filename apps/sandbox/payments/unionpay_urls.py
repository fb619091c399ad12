"""Routes of the sandbox's UnionPay emulation, mounted at ``/unionpay/``."""

from django.urls import URLPattern, path

from apps.sandbox.payments import unionpay

app_name = "unionpay"

urlpatterns: list[URLPattern] = [
    path("gateway/api/frontTransReq.do", unionpay.front_trans_req, name="front"),
    path("gateway/api/queryTrans.do", unionpay.query_trans, name="query"),
    path("gateway/api/backTransReq.do", unionpay.back_trans_req, name="back"),
    path("cashier/<str:trade_no>/", unionpay.cashier, name="cashier"),
    path("cashier/<str:trade_no>/pay", unionpay.pay, name="pay"),
    path("cashier/<str:trade_no>/cancel", unionpay.cancel, name="cancel"),
]
