"""Card API routes under /api/v1/."""

from django.urls import path

from apps.fulfilment.api import views
from apps.fulfilment.shipping import api as shipping

app_name = "fulfilment-api"

urlpatterns = [
    path("cards/redeem/quote/", views.CardQuoteApi.as_view(), name="card-quote"),
    path("cards/redeem/", views.CardRedeemApi.as_view(), name="card-redeem"),
    path("cards/purchased/", views.PurchasedCardsApi.as_view(), name="cards-purchased"),
    path("cards/<str:number>/pin/", views.CardPinApi.as_view(), name="card-pin"),
    path(
        "orders/<str:number>/shipments/",
        shipping.OrderShipmentsApi.as_view(),
        name="order-shipments",
    ),
    path("orders/<str:number>/returns/", shipping.OrderReturnsApi.as_view(), name="order-returns"),
    path(
        "returns/<int:return_id>/send-back/",
        shipping.ReturnSendBackApi.as_view(),
        name="return-send-back",
    ),
]
