"""Fulfilment pages."""

from django.urls import path

from apps.fulfilment import views

app_name = "fulfilment"

urlpatterns = [path("cards/redeem/", views.redeem, name="redeem")]
