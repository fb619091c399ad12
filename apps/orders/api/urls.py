"""Cart API routes under /api/v1/."""

from django.urls import path

from apps.orders.api import views

app_name = "orders-api"

urlpatterns = [
    path("cart/", views.CartApi.as_view(), name="cart"),
    path("cart/lines/", views.CartLinesApi.as_view(), name="cart-lines"),
    path("cart/lines/<int:line_id>/", views.CartLineApi.as_view(), name="cart-line"),
]
