"""The CP server API under /api/v1/content/."""

from django.urls import path

from apps.content.api import views

urlpatterns = [
    path("content/charges/", views.ChargesApi.as_view(), name="content-charges"),
    path("content/charges/<str:charge_id>/", views.ChargeApi.as_view(), name="content-charge"),
    path(
        "content/charges/<str:charge_id>/confirm/",
        views.ChargeConfirmApi.as_view(),
        name="content-charge-confirm",
    ),
    path(
        "content/charges/<str:charge_id>/refund/",
        views.ChargeRefundApi.as_view(),
        name="content-charge-refund",
    ),
    path("content/trials/", views.TrialsApi.as_view(), name="content-trials"),
    path("content/trials/<int:trial_id>/", views.TrialApi.as_view(), name="content-trial"),
    path(
        "content/trials/<int:trial_id>/confirm/",
        views.TrialConfirmApi.as_view(),
        name="content-trial-confirm",
    ),
    path("content/entitlements/", views.EntitlementApi.as_view(), name="content-entitlements"),
    path("content/products/", views.ProductsApi.as_view(), name="content-products"),
]
