"""The carrier's JSON API (``/carrier/v1``) and the sandbox's own controls (``/sandbox``)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

from apps.sandbox import boss, carrier_billing, faults, mobile, sms, subscribers
from apps.sandbox.errors import error_response, invalid_argument
from apps.sandbox.faults import carrier_endpoint
from apps.sandbox.jsonapi import json_endpoint, json_response, read_json_object, require_api_key
from apps.sandbox.models import Knobs

MAX_LIST_LIMIT = 200


@json_endpoint("GET")
def health(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return error_response(503, "UNAVAILABLE", "The sandbox database is unreachable.")
    return json_response({"status": "ok"})


@json_endpoint("POST")
@carrier_endpoint
def sms_send(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise invalid_argument("The Idempotency-Key header is required.")
    status, body = sms.sms_accept(
        idempotency_key=key, payload=read_json_object(request), knobs=knobs
    )
    return json_response(body, status=status)


@json_endpoint("GET")
@carrier_endpoint
def sms_detail(request: HttpRequest, knobs: Knobs, message_id: str) -> HttpResponse:
    return json_response(sms.sms_get(message_id=message_id))


@json_endpoint("GET")
@carrier_endpoint
def sms_by_key(request: HttpRequest, knobs: Knobs, idempotency_key: str) -> HttpResponse:
    return json_response(sms.sms_get_by_key(idempotency_key=idempotency_key))


@json_endpoint("GET")
@carrier_endpoint
def subscriber_detail(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(subscribers.subscriber_lookup(raw_msisdn=msisdn))


@json_endpoint("GET", "PUT")
def knobs_detail(request: HttpRequest) -> HttpResponse:
    if request.method == "PUT":
        require_api_key(request)
        knobs = faults.knobs_update(changes=read_json_object(request))
    else:
        knobs = faults.knobs_get()
    return json_response(faults.knobs_as_dict(knobs))


@json_endpoint("GET", "PUT", "DELETE")
def province_knobs(request: HttpRequest, province: str) -> HttpResponse:
    """One provincial BOSS's fault knobs: ``PUT`` overrides some, ``DELETE`` clears them."""
    if request.method == "GET":
        return json_response(faults.province_knobs_get(province=province))
    require_api_key(request)
    changes = read_json_object(request) if request.method == "PUT" else {}
    return json_response(faults.province_knobs_update(province=province, changes=changes))


@json_endpoint("POST")
def knobs_reset(request: HttpRequest) -> HttpResponse:
    require_api_key(request)
    return json_response(faults.knobs_as_dict(faults.knobs_reset()))


@json_endpoint("GET")
def sms_list(request: HttpRequest) -> HttpResponse:
    """Messages newest first, for tests that read the code a user would see on the phone."""
    raw_to = request.GET.get("to")
    to = subscribers.msisdn_normalize(raw_to) if raw_to else None
    raw_limit = request.GET.get("limit", "20")
    if (
        not (raw_limit.isascii() and raw_limit.isdigit())
        or not 0 < int(raw_limit) <= MAX_LIST_LIMIT
    ):
        raise invalid_argument(f"limit must be 1..{MAX_LIST_LIMIT}.")
    messages = sms.sms_recent(to=to, limit=int(raw_limit))
    return json_response({"results": [sms.sms_body(message) for message in messages]})


@json_endpoint("PUT")
def subscriber_put(request: HttpRequest, msisdn: str) -> HttpResponse:
    require_api_key(request)
    body, created = mobile.subscriber_arrange(raw_msisdn=msisdn, fields=read_json_object(request))
    return json_response(body, status=201 if created else 200)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(404, "NOT_FOUND", "No such path.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(500, "INTERNAL", "The sandbox failed; see its log.")


# --- Carrier billing (CAMARA-style: prepare, validate, confirm, cancel, refund) ----------------


@json_endpoint("POST")
@carrier_endpoint
def billing_prepare(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise invalid_argument("The Idempotency-Key header is required.")
    status, body = carrier_billing.billing_prepare(
        idempotency_key=key, payload=read_json_object(request), knobs=knobs
    )
    return json_response(body, status=status)


@json_endpoint("GET")
@carrier_endpoint
def billing_detail(request: HttpRequest, knobs: Knobs, payment_id: str) -> HttpResponse:
    return json_response(carrier_billing.billing_get(payment_id=payment_id))


@json_endpoint("POST")
@carrier_endpoint
def billing_action(
    request: HttpRequest, knobs: Knobs, payment_id: str, action: str
) -> HttpResponse:
    payload = read_json_object(request)
    if action == "validate":
        return json_response(
            carrier_billing.billing_validate(
                payment_id=payment_id, code=str(payload.get("code", ""))
            )
        )
    if action == "confirm":
        return json_response(carrier_billing.billing_confirm(payment_id=payment_id))
    if action == "cancel":
        return json_response(carrier_billing.billing_cancel(payment_id=payment_id))
    if action == "refund":
        return json_response(carrier_billing.billing_refund(payment_id=payment_id, payload=payload))
    raise invalid_argument("Unknown action.")


@json_endpoint("GET")
def pay_notifications(request: HttpRequest) -> HttpResponse:
    """Every payment notification the sandbox made for an out_trade_no (tests replay them)."""
    from apps.sandbox.payments.common import notifications_for

    out_trade_no = request.GET.get("out_trade_no", "")
    if not out_trade_no:
        raise invalid_argument("out_trade_no is required.")
    return json_response(
        {"results": notifications_for(out_trade_no, request.GET.get("provider") or None)}
    )


# --- BOSS: top-ups and data packs ---------------------------------------------------------------


def _provision(request: HttpRequest, kind: str) -> HttpResponse:
    status, body = boss.provision(
        kind=kind,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        payload=read_json_object(request),
    )
    return json_response(body, status=status)


@json_endpoint("POST")
@carrier_endpoint
def recharge(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return _provision(request, "recharge")


@json_endpoint("POST")
@carrier_endpoint
def data_pack(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return _provision(request, "data_pack")


@json_endpoint("GET")
@carrier_endpoint
def provisioning_by_key(request: HttpRequest, knobs: Knobs, idempotency_key: str) -> HttpResponse:
    return json_response(boss.provisioning_by_key(idempotency_key=idempotency_key))


# --- Mobile business: plans, add-ons, data allowances, bills ------------------------------------


@json_endpoint("POST")
@carrier_endpoint
def plan_change(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return _provision(request, "plan_change")


@json_endpoint("POST")
@carrier_endpoint
def addon(request: HttpRequest, knobs: Knobs) -> HttpResponse:
    return _provision(request, "addon")


@json_endpoint("GET")
@carrier_endpoint
def subscriber_plan(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(mobile.plan_get(raw_msisdn=msisdn))


@json_endpoint("GET")
@carrier_endpoint
def subscriber_offers(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(mobile.offers_for(raw_msisdn=msisdn))


@json_endpoint("GET")
@carrier_endpoint
def subscriber_usage(request: HttpRequest, knobs: Knobs, msisdn: str) -> HttpResponse:
    return json_response(mobile.usage_get(raw_msisdn=msisdn))


@json_endpoint("GET")
@carrier_endpoint
def subscriber_bill(request: HttpRequest, knobs: Knobs, msisdn: str, month: str) -> HttpResponse:
    return json_response(mobile.bill_get(raw_msisdn=msisdn, month_label=month))


@json_endpoint("POST")
def usage_consume(request: HttpRequest, msisdn: str) -> HttpResponse:
    """Sandbox control: the line uses some data (tests and the demo arrange usage with it)."""
    require_api_key(request)
    payload = read_json_object(request)
    return json_response(mobile.usage_consume(raw_msisdn=msisdn, mb=payload.get("mb")))
