"""The couriers' status-update webhook, the buyer's return forms and the order page's section."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.api import error_body
from apps.core.errors import DomainError
from apps.fulfilment.models import Courier
from apps.fulfilment.shipping import courier as courier_api
from apps.fulfilment.shipping import services
from apps.fulfilment.shipping.errors import TrackingNumberUnknown

logger = logging.getLogger(__name__)


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, code, message), status=status)


def _update(raw: bytes) -> services.CourierUpdate:
    data = json.loads(raw)
    occurred_at = parse_datetime(str(data["occurred_at"]))
    if occurred_at is None or occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be an ISO 8601 time with its offset")
    return services.CourierUpdate(
        event_id=str(data["event_id"])[:64], tracking_number=str(data["tracking_number"]).upper(),
        status=str(data["status"]), occurred_at=occurred_at,
        location=str(data.get("location") or ""), description=str(data.get("description") or ""),
    )  # fmt: skip


@csrf_exempt
@require_POST
def courier_webhook(request: HttpRequest, courier: str) -> JsonResponse:
    """A courier pushes a parcel's status: signature first, then the update is kept once."""
    if courier not in Courier.values:
        return _refuse(404, "UNKNOWN_COURIER", "No such courier.")
    if not courier_api.webhook_signature_valid(
        courier=courier,
        timestamp=request.headers.get("X-Courier-Timestamp", ""),
        body=request.body,
        signature=request.headers.get("X-Courier-Signature", ""),
    ):
        return _refuse(401, "INVALID_SIGNATURE", "Signature missing, wrong or expired.")
    try:
        update = _update(request.body)
    except (ValueError, KeyError, TypeError):
        return _refuse(400, "INVALID_ARGUMENT", "Malformed status update.")
    try:
        result = services.tracking_update_receive(courier=courier, update=update)
    except TrackingNumberUnknown as exc:
        logger.warning(
            "courier %s pushed event %s for unknown tracking number %s",
            courier, update.event_id, update.tracking_number,
        )  # fmt: skip
        return JsonResponse(exc.as_body(), status=exc.http_status)
    except DomainError as exc:
        return JsonResponse(exc.as_body(), status=exc.http_status)
    return JsonResponse({"received": True, "result": result})


@login_required
@require_POST
def return_ask(request: HttpRequest, number: str) -> HttpResponse:
    """The buyer asks to return a delivered line unopened (the form on the order page)."""
    try:
        services.return_request(
            number=number, user_id=int(request.user.pk), line_id=int(request.POST.get("line_id") or 0),  # type: ignore[arg-type]
            reason=request.POST.get("reason", "")[:200], unopened=request.POST.get("unopened") == "on",
        )  # fmt: skip
        messages.success(request, _("Your return request was sent; we will review it shortly."))
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Choose the item to return.")))
    return redirect("orders:detail", number=number)


@login_required
@require_POST
def return_send_back(request: HttpRequest, number: str, return_id: int) -> HttpResponse:
    """The buyer enters the tracking number of the parcel carrying an approved return back."""
    try:
        services.return_send_back(
            return_id=return_id, user_id=int(request.user.pk),  # type: ignore[arg-type]
            courier=request.POST.get("courier", ""), tracking_number=request.POST.get("tracking_number", ""),
        )  # fmt: skip
        messages.success(request, _("Thank you; we will refund you once the goods arrive."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", number=number)


def order_shipping_section(request: HttpRequest, number: str) -> str:
    """The order page's parcels (with their tracking), returns and the return form ("" when
    the order has no physical goods). The order page has checked that the order is the user's."""
    from django.template.loader import render_to_string

    from apps.fulfilment.shipping import selectors

    shipments = selectors.order_shipments(number=number)
    returns = selectors.order_returns(number=number, user_id=int(request.user.pk))  # type: ignore[arg-type]
    returnable = selectors.returnable_lines(number=number)
    if not (shipments or returns or returnable):
        return ""
    context = {"number": number, "shipments": shipments, "returns": returns,
               "returnable": returnable, "couriers": Courier.choices}  # fmt: skip
    return render_to_string("fulfilment/_order_shipping.html", context, request=request)


def order_shipments_data(user_id: int, number: str) -> list[dict[str, object]]:
    """The order API's ``shipments`` section: the parcels with their tracking."""
    from dataclasses import asdict

    from apps.fulfilment.shipping import selectors
    from apps.fulfilment.shipping.api import ShipmentOutput

    return [dict(ShipmentOutput(asdict(s)).data) for s in selectors.order_shipments(number=number)]
