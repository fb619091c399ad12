"""Cart API routes under /api/v1/."""

from django.urls import path

from apps.orders.api import flash, order_views, views

app_name = "orders-api"

urlpatterns = [
    path("cart/", views.CartApi.as_view(), name="cart"),
    path("cart/lines/", views.CartLinesApi.as_view(), name="cart-lines"),
    path("cart/lines/<int:line_id>/", views.CartLineApi.as_view(), name="cart-line"),
]

urlpatterns += [
    path("checkout/", order_views.CheckoutApi.as_view(), name="checkout"),
    path("orders/", order_views.OrderListApi.as_view(), name="orders"),
    path("orders/<str:number>/", order_views.OrderDetailApi.as_view(), name="order"),
    path("orders/<str:number>/pay/", order_views.OrderPayApi.as_view(), name="order-pay"),
    path("orders/<str:number>/cancel/", order_views.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<str:number>/refund/", order_views.OrderRefundApi.as_view(), name="order-refund"),
    path("flash-sales/<int:sale_id>/buy/", flash.FlashBuyApi.as_view(), name="flash-buy"),
    path("flash-sales/<int:sale_id>/claim/", flash.FlashClaimApi.as_view(), name="flash-claim"),
]
