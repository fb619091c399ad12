"""The carrier API for the network capabilities (SIM, device auth, voice) and their controls."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.sandbox import device, network, voice
from apps.sandbox.errors import invalid_argument
from apps.sandbox.faults import carrier_endpoint
from apps.sandbox.jsonapi import json_endpoint, json_response, read_json_object, require_api_key
from apps.sandbox.models import Knobs


@json_endpoint("GET")
@carrier_endpoint
def sim_detail(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(network.sim_info(raw_msisdn=msisdn))


@json_endpoint("POST")
@carrier_endpoint
def device_token_introspect(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return json_response(network.device_token_introspect(payload=read_json_object(request)))


@json_endpoint("POST")
@carrier_endpoint
def call_start(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise invalid_argument("The Idempotency-Key header is required.")
    status, body = voice.call_start(idempotency_key=key, payload=read_json_object(request))
    return json_response(body, status=status)


@json_endpoint("GET")
@carrier_endpoint
def call_detail(request: HttpRequest, knobs: Knobs, call_id: str) -> HttpResponse:
    return json_response(voice.call_get(call_id=call_id))


@json_endpoint("POST")
@carrier_endpoint
def call_hangup(request: HttpRequest, knobs: Knobs, call_id: str) -> HttpResponse:
    return json_response(voice.call_hangup(call_id=call_id))


@json_endpoint("POST")
def sim_swap(request: HttpRequest, msisdn: str) -> HttpResponse:
    """A shop puts a new SIM on the line (tests and the demo)."""
    require_api_key(request)
    return json_response(
        network.sim_swap(raw_msisdn=msisdn, payload=read_json_object(request)), status=201
    )


@json_endpoint("PUT")
def call_behaviour(request: HttpRequest, msisdn: str) -> HttpResponse:
    require_api_key(request)
    return json_response(voice.behaviour_put(raw_msisdn=msisdn, payload=read_json_object(request)))


@json_endpoint("POST")
def device_authenticate(request: HttpRequest) -> HttpResponse:
    """The device's side: no API key, as the device is not the partner (see ``network``)."""
    return json_response(network.device_authenticate(payload=read_json_object(request)), status=201)


@json_endpoint("GET")
@carrier_endpoint
def device_status(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(device.device_status(raw_msisdn=msisdn))


@json_endpoint("GET")
@carrier_endpoint
def device_location(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(device.device_location(raw_msisdn=msisdn))


@json_endpoint("POST")
@carrier_endpoint
def kyc_match(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(device.kyc_match(raw_msisdn=msisdn, payload=read_json_object(request)))


@json_endpoint("POST")
@carrier_endpoint
def age_check(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(device.age_check(raw_msisdn=msisdn, payload=read_json_object(request)))


@json_endpoint("PUT")
def device_state(request: HttpRequest, msisdn: str) -> HttpResponse:
    """Where the device is and how it is reached (tests and the demo)."""
    require_api_key(request)
    return json_response(
        device.device_state_put(raw_msisdn=msisdn, payload=read_json_object(request))
    )


@json_endpoint("PUT")
def real_name(request: HttpRequest, msisdn: str) -> HttpResponse:
    """Register the line's owner in the real-name register (tests and the demo)."""
    require_api_key(request)
    return json_response(device.real_name_put(raw_msisdn=msisdn, payload=read_json_object(request)))
