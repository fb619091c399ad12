"""Callbacks from the carrier: signed SMS delivery reports and voice call events."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.carrier.services import DeliveryReport, sms_delivery_report_apply
from apps.carrier.signing import carrier_signature_valid
from apps.carrier.voice import call_event_apply, call_state_parse
from apps.core.api import error_body


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, code, message), status=status)


@csrf_exempt
@require_POST
def sms_delivery_report(request: HttpRequest) -> JsonResponse:
    """Verify the carrier's signature, then apply the report (repeats change nothing)."""
    if not carrier_signature_valid(
        secret=settings.CARRIER_SHARED_SECRET,
        timestamp=request.headers.get("X-Carrier-Timestamp", ""),
        body=request.body,
        signature=request.headers.get("X-Carrier-Signature", ""),
    ):
        return _refuse(401, "INVALID_SIGNATURE", "Signature missing, wrong or expired.")
    try:
        data = json.loads(request.body)
        report = DeliveryReport(
            reference=str(data["reference"]),
            carrier_message_id=str(data["message_id"]),
            status=str(data["status"]),
            error_code=str(data.get("error_code") or ""),
            delivered_at=parse_datetime(str(data.get("delivered_at") or "")),
        )
    except (ValueError, KeyError, TypeError):
        return _refuse(400, "INVALID_ARGUMENT", "Malformed delivery report.")
    applied = sms_delivery_report_apply(report=report)
    return JsonResponse({"received": True, "applied": applied})


@csrf_exempt
@require_POST
def voice_event(request: HttpRequest) -> JsonResponse:
    """Verify the carrier's signature, then hand the call's new state to the listeners."""
    if not carrier_signature_valid(
        secret=settings.CARRIER_SHARED_SECRET,
        timestamp=request.headers.get("X-Carrier-Timestamp", ""),
        body=request.body,
        signature=request.headers.get("X-Carrier-Signature", ""),
    ):
        return _refuse(401, "INVALID_SIGNATURE", "Signature missing, wrong or expired.")
    try:
        state = call_state_parse(json.loads(request.body))
    except (ValueError, KeyError, TypeError):
        return _refuse(400, "INVALID_ARGUMENT", "Malformed call event.")
    call_event_apply(state=state)
    return JsonResponse({"received": True})
