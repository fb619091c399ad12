"""The site's URLs plus the gateway's test-only capability view, for the portal's end-to-end test."""

from django.urls import path

from apps.gateway.tests.views import CheckView
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("test-sim-swap/v1/check", CheckView.as_view())]
