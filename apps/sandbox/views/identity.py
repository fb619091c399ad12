"""The carrier API's real-name and SIM-activation endpoints, and the ID-register fixture."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.sandbox import identity
from apps.sandbox.faults import carrier_endpoint
from apps.sandbox.jsonapi import json_endpoint, json_response, read_json_object, require_api_key
from apps.sandbox.models import Knobs


@json_endpoint("POST")
@carrier_endpoint
def identity_verify(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return json_response(identity.identity_verify(payload=read_json_object(request)))


@json_endpoint("POST")
@carrier_endpoint
def sim_activate(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    status, body = identity.sim_activate(
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        payload=read_json_object(request),
    )
    return json_response(body, status=status)


@json_endpoint("GET")
@carrier_endpoint
def sim_activation_by_key(request: HttpRequest, knobs: Knobs, idempotency_key: str) -> HttpResponse:
    return json_response(identity.sim_activation_by_key(idempotency_key=idempotency_key))


@json_endpoint("PUT")
def identity_put(request: HttpRequest, id_number: str) -> HttpResponse:
    require_api_key(request)
    return json_response(
        identity.identity_put(raw_id_number=id_number, payload=read_json_object(request))
    )
