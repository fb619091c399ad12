"""URLs for pipeline tests: the gateway's own endpoints and the test-only capability views."""

from django.urls import include, path

from apps.gateway.tests.views import CheckView, SendView

urlpatterns = [
    path("", include("apps.gateway.urls")),
    path("test-sim-swap/v1/check", CheckView.as_view()),
    path("test-sms/v1/send", SendView.as_view()),
]
