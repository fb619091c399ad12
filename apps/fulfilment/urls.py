"""Fulfilment pages."""

from django.urls import path

from apps.fulfilment import views

app_name = "fulfilment"

urlpatterns = [
    path("cards/redeem/", views.redeem, name="redeem"),
    path("cards/pin/<str:number>/", views.pin_reveal, name="pin"),
]
