"""Cart page URLs."""

from django.urls import path

from apps.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.cart, name="cart"),
    path("add/", views.cart_add, name="cart-add"),
    path("lines/<int:line_id>/", views.cart_line_update, name="cart-line"),
]
