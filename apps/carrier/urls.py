"""Carrier callback URLs."""

from django.urls import path

from apps.carrier import views

app_name = "carrier"

urlpatterns = [
    path("callbacks/sms-dlr/", views.sms_delivery_report, name="sms-dlr"),
    path("callbacks/voice/", views.voice_event, name="voice-event"),
]
