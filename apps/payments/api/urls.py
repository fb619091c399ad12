"""Payments API routes under /api/v1/."""

from django.urls import path

from apps.payments.api import views

app_name = "payments-api"

urlpatterns = [
    path("payments/<str:public_id>/", views.PaymentDetailApi.as_view(), name="payment"),
    path(
        "payments/<str:public_id>/carrier-confirm/",
        views.CarrierConfirmApi.as_view(),
        name="carrier-confirm",
    ),
    path(
        "refunds/<str:public_id>/decision/",
        views.RefundDecisionApi.as_view(),
        name="refund-decision",
    ),
]
