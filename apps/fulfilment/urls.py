"""Fulfilment pages: cards, returns, the couriers' webhook."""

from django.urls import path

from apps.fulfilment import views
from apps.fulfilment.shipping import views as shipping

app_name = "fulfilment"

urlpatterns = [
    path("cards/redeem/", views.redeem, name="redeem"),
    path("cards/pin/<str:number>/", views.pin_reveal, name="pin"),
    path("orders/<str:number>/returns/", shipping.return_ask, name="return-ask"),
    path(
        "orders/<str:number>/returns/<int:return_id>/send-back/",
        shipping.return_send_back,
        name="return-send-back",
    ),
    path("shipments/webhook/<str:courier>/", shipping.courier_webhook, name="courier-webhook"),
]
