"""Cart, checkout and order page URLs."""

from django.urls import path

from apps.orders.views import cart, direct, flash, orders

app_name = "orders"

urlpatterns = [
    path("cart/", cart.cart, name="cart"),
    path("cart/add/", cart.cart_add, name="cart-add"),
    path("cart/lines/<int:line_id>/", cart.cart_line_update, name="cart-line"),
    path("checkout/", orders.checkout, name="checkout"),
    path("buy/", direct.buy_now, name="buy-now"),
    path("recharge/", direct.recharge, name="recharge"),
    path("recharge/me/", direct.recharge_me, name="recharge-me"),
    path("recharge/number/", direct.recharge_number, name="recharge-number"),
    path("flash/<int:sale_id>/", flash.flash_sale, name="flash-sale"),
    path("flash/<int:sale_id>/claim/", flash.flash_claim, name="flash-claim"),
    path("orders/", orders.order_list, name="list"),
    path("orders/<str:number>/", orders.detail, name="detail"),
    path("orders/<str:number>/pay/", orders.pay, name="pay"),
    path("orders/<str:number>/result/", orders.result, name="result"),
    path("orders/<str:number>/cancel/", orders.cancel, name="cancel"),
    path("orders/<str:number>/refund/", orders.refund, name="refund"),
]
