"""Routes of the sandbox's Alipay emulation, mounted at ``/alipay/``."""

from django.urls import URLPattern, path

from apps.sandbox.payments import alipay

app_name = "alipay"

urlpatterns: list[URLPattern] = [
    path("gateway.do", alipay.gateway, name="gateway"),
    path("cashier/<str:trade_no>/", alipay.cashier, name="cashier"),
    path("cashier/<str:trade_no>/pay", alipay.pay, name="pay"),
    path("cashier/<str:trade_no>/cancel", alipay.cancel, name="cancel"),
]
