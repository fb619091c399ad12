"""Bulk distribution API routes under /api/v1/."""

from django.urls import path

from apps.enterprise.api import views

app_name = "bulk-api"

urlpatterns = [
    path("enterprise/balance/", views.PrepaidBalanceApi.as_view(), name="balance"),
    path("enterprise/bulk/batches/", views.BatchesApi.as_view(), name="batches"),
    path("enterprise/bulk/batches/<str:batch_no>/", views.BatchApi.as_view(), name="batch"),
    path(
        "enterprise/bulk/batches/<str:batch_no>/results.csv",
        views.BatchResultsApi.as_view(),
        name="results",
    ),
    path(
        "enterprise/bulk/batches/<str:batch_no>/retry/", views.BatchRetryApi.as_view(), name="retry"
    ),
]
