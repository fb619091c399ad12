"""Developer-portal API routes under /api/v1/developer/."""

from django.urls import path

from apps.gateway.api import portal as views

app_name = "gateway-portal-api"

urlpatterns = [
    path("partner/", views.PartnerApi.as_view(), name="partner"),
    path("packages/", views.PackagesApi.as_view(), name="packages"),
    path("apps/", views.AppsApi.as_view(), name="apps"),
    path("apps/<int:app_id>/", views.AppApi.as_view(), name="app"),
    path(
        "apps/<int:app_id>/production-request/",
        views.ProductionRequestApi.as_view(),
        name="production-request",
    ),
    path("apps/<int:app_id>/credentials/", views.CredentialsApi.as_view(), name="credentials"),
    path(
        "apps/<int:app_id>/credentials/<int:credential_id>/rotate/",
        views.CredentialRotateApi.as_view(),
        name="credential-rotate",
    ),
    path(
        "apps/<int:app_id>/credentials/<int:credential_id>/revoke/",
        views.CredentialRevokeApi.as_view(),
        name="credential-revoke",
    ),
    path(
        "apps/<int:app_id>/subscriptions/", views.SubscriptionsApi.as_view(), name="subscriptions"
    ),
    path(
        "apps/<int:app_id>/subscriptions/<slug:package_code>/",
        views.SubscriptionApi.as_view(),
        name="subscription",
    ),
    path("apps/<int:app_id>/usage/", views.UsageApi.as_view(), name="usage"),
]
