"""Sandbox routes for the network capabilities: SIM records, device auth, voice calls, device
status and location, the real-name register."""

from django.urls import path

from apps.sandbox.views import network

urlpatterns = [
    path("carrier/v1/subscribers/<str:msisdn>/sim", network.sim_detail, name="sim-detail"),
    path(
        "carrier/v1/network-auth/introspect",
        network.device_token_introspect,
        name="device-token-introspect",
    ),
    path("carrier/v1/calls", network.call_start, name="call-start"),
    path("carrier/v1/calls/<str:call_id>", network.call_detail, name="call-detail"),
    path("carrier/v1/calls/<str:call_id>/hangup", network.call_hangup, name="call-hangup"),
    path("sandbox/subscribers/<str:msisdn>/sim-swap", network.sim_swap, name="sim-swap"),
    path(
        "sandbox/subscribers/<str:msisdn>/call-behaviour",
        network.call_behaviour,
        name="call-behaviour",
    ),
    path("sandbox/network-auth", network.device_authenticate, name="device-authenticate"),
    path(
        "carrier/v1/subscribers/<str:msisdn>/device-status",
        network.device_status,
        name="device-status",
    ),
    path(
        "carrier/v1/subscribers/<str:msisdn>/location",
        network.device_location,
        name="device-location",
    ),
    path("carrier/v1/subscribers/<str:msisdn>/kyc-match", network.kyc_match, name="kyc-match"),
    path("carrier/v1/subscribers/<str:msisdn>/age-check", network.age_check, name="age-check"),
    path("sandbox/subscribers/<str:msisdn>/device", network.device_state, name="device-state"),
    path("sandbox/subscribers/<str:msisdn>/real-name", network.real_name, name="real-name"),
]
