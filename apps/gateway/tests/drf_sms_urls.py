"""The platform's URLs with ``POST /sms/v1/messages`` on the DRF view (no lean path), so that
``test_sms_lean`` can compare every answer of both paths."""

from django.urls import include, path

from apps.gateway.capabilities.sms import SmsSend

urlpatterns = [
    path("sms/v1/messages", SmsSend.as_view()),
    path("", include("config.urls")),
]
