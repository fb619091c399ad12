"""Gateway endpoints served from the site root: the OAuth2 token endpoint and /metrics."""

from django.urls import path

from apps.gateway.api.metrics import metrics
from apps.gateway.api.oauth import token

app_name = "gateway"

urlpatterns = [
    path("oauth2/token", token, name="oauth2-token"),
    path("metrics", metrics, name="metrics"),
]
