"""The companion refund API (carrier-billing-refund v0.3) under ``/carrier-billing-refund/v0.3``:
``createRefund``, ``retrieveRefunds``, ``retrieveRefund``, ``retrievePaymentRemainingAmount``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import billing
from apps.gateway.api.base import GatewayRequest
from apps.gateway.capabilities.carrier_billing.common import (
    CURRENCY,
    REFUND_STATUS,
    CarrierBillingView,
    ChargingInformationIn,
    ChargingMetaDataIn,
    SinkCredentialIn,
    _currency,
    _decimals,
    _fen,
    _request_kept,
    check_sink,
    list_query,
    reference_in_use,
    yuan,
)
from apps.gateway.capabilities.common import TextField, iso_utc
from apps.gateway.capability_errors import RefundDetailsMismatch, RefundTaxesMismatch
from apps.gateway.errors import CapabilityError


class RefundChargingIn(ChargingInformationIn):
    pass


class RefundItemIn(ChargingInformationIn):
    paymentItemId = serializers.CharField(max_length=64)  # noqa: N815


class RefundAmountIn(StrictSerializer):
    chargingInformation = RefundChargingIn(required=False)  # noqa: N815
    chargingMetaData = ChargingMetaDataIn(required=False)  # noqa: N815
    refundDetails = RefundItemIn(many=True, required=False, min_length=1)  # type: ignore[call-arg]  # noqa: N815


class RefundTransactionIn(StrictSerializer):
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815
    refundAmount = RefundAmountIn()  # noqa: N815
    referenceCode = serializers.CharField(max_length=64)  # noqa: N815


_NAMES_AMOUNT = {"required": ["chargingInformation"]}


class CreateRefundIn(StrictSerializer):
    # ``validate`` below, in JSON Schema: a partial refund names its amount, a total one not
    # (a pattern, not an enum: drf-spectacular would swap an enum for the whole TypeEnum).
    openapi_request_extra: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {
                    "type": {"pattern": "^partial$"},
                    "amountTransaction": {"properties": {"refundAmount": _NAMES_AMOUNT}},
                }
            },
            {
                "properties": {
                    "type": {"pattern": "^total$"},
                    "amountTransaction": {"properties": {"refundAmount": {"not": _NAMES_AMOUNT}}},
                }
            },
        ]
    }

    type = serializers.ChoiceField(["total", "partial"])
    reason = serializers.CharField(max_length=100, required=False)
    amountTransaction = RefundTransactionIn()  # noqa: N815
    sink = TextField(max_length=500, required=False)
    sinkCredential = SinkCredentialIn(required=False)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_amount = "chargingInformation" in attrs["amountTransaction"]["refundAmount"]
        if (attrs["type"] == "partial") != has_amount:
            raise serializers.ValidationError(
                "A partial refund names its chargingInformation; a total refund does not."
            )
        return attrs


def refund_body(detail: billing.ChargeRefundDetail) -> dict[str, Any]:
    asked = _decimals(detail.request)
    kind = asked.get("type", "partial")
    transaction = dict(asked.get("amountTransaction") or {})
    refund_amount = transaction.get("refundAmount")
    if refund_amount is None:
        refund_amount = {
            "chargingInformation": {
                "amount": yuan(detail.amount_fen),
                "currency": CURRENCY,
                "description": detail.reason or "refund",
            }
        }
    amount_transaction: dict[str, Any] = {
        "refundAmount": refund_amount,
        "referenceCode": transaction.get("referenceCode") or detail.refund_id,
    }
    if transaction.get("clientCorrelator"):
        amount_transaction["clientCorrelator"] = transaction["clientCorrelator"]
    body: dict[str, Any] = {
        "refundId": detail.refund_id,
        "refundStatus": REFUND_STATUS.get(detail.status, "processing"),
        "type": kind,
        "refundCreationDate": iso_utc(detail.created_at),
        "amountTransaction": amount_transaction,
    }
    if detail.status == "succeeded":
        body["refundDate"] = iso_utc(detail.created_at)
    if asked.get("reason") or detail.reason:
        body["reason"] = asked.get("reason") or detail.reason
    if asked.get("sink"):
        body["sink"] = asked["sink"]
    return body


def _same_tax_management(payment_amount: dict[str, Any], refund_amount: dict[str, Any]) -> None:
    """A refund that says whether its amount includes tax says what the payment said (a
    payment that did not say excludes it)."""
    paid = bool((payment_amount.get("chargingInformation") or {}).get("isTaxIncluded", False))
    stated = [refund_amount.get("chargingInformation") or {}]
    stated += list(refund_amount.get("refundDetails") or [])
    if any("isTaxIncluded" in s and bool(s["isTaxIncluded"]) != paid for s in stated):
        raise RefundTaxesMismatch()


def _details_consistent(
    payment_amount: dict[str, Any],
    refund_amount: dict[str, Any],
    earlier: tuple[billing.ChargeRefundDetail, ...],
) -> int | None:
    """Each of a refund's ``refundDetails`` names one of the payment's ``paymentDetails``
    (``paymentItemId`` = its ``id``) in its currency, for no more than what is left of that
    item after the earlier refunds that were not denied. Returns what they add up to (fen),
    None without details."""
    asked = refund_amount.get("refundDetails") or []
    if not asked:
        return None
    items = {str(i["id"]): i for i in payment_amount.get("paymentDetails") or []}
    left = {key: _fen(Decimal(str(item["amount"]))) for key, item in items.items()}
    for refund in earlier:
        if REFUND_STATUS.get(refund.status) == "denied":
            continue
        kept = (refund.request.get("amountTransaction") or {}).get("refundAmount") or {}
        for detail in kept.get("refundDetails") or []:
            key = str(detail.get("paymentItemId"))
            left[key] = left.get(key, 0) - _fen(Decimal(str(detail["amount"])))
    for detail in asked:
        key = str(detail["paymentItemId"])
        if key not in items or detail["currency"] != items[key].get("currency"):
            raise RefundDetailsMismatch(details={"paymentItemId": key})
        left[key] -= _fen(detail["amount"])
        if left[key] < 0:
            raise RefundDetailsMismatch(details={"paymentItemId": key})
    return sum(_fen(detail["amount"]) for detail in asked)


class RefundView(CarrierBillingView):
    http_method_names = ["get"]
    scope = "carrier-billing-refund:refunds:read"

    def refunds(self, request: GatewayRequest) -> tuple[billing.ChargeRefundDetail, ...]:
        return billing.charge_refunds(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            phone_number=self.owner_number(request),
        )  # fmt: skip


@extend_schema_view(
    post=extend_schema(operation_id="createRefund"),
    get=extend_schema(operation_id="retrieveRefunds"),
)
class Refunds(RefundView):
    """``POST``: give back all or part of a payment; ``GET``: its refunds, a page at a time."""

    http_method_names = ["get", "post"]
    idempotent = True

    @property
    def scope(self) -> str:  # type: ignore[override]
        creates = getattr(self.request, "method", "") == "POST"
        return "carrier-billing-refund:refunds:create" if creates else RefundView.scope

    @property
    def writes(self) -> bool:  # type: ignore[override]
        return getattr(self.request, "method", "") == "POST"

    @property
    def input_serializer(self) -> Any:  # type: ignore[override]
        return CreateRefundIn if getattr(self.request, "method", "") == "POST" else None

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return (data.get("amountTransaction") or {}).get("clientCorrelator")

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if request.method == "GET":
            return self._list(request)
        check_sink(data)
        app_id, payment_id = request.gateway_app.app_id, self.kwargs["payment_id"]
        paid = billing.charge_get(
            app_id=app_id, payment_id=payment_id, phone_number=self.owner_number(request)
        )
        reference = data["amountTransaction"].get("referenceCode") or ""
        earlier = self.refunds(request)
        used = {(r.request.get("amountTransaction") or {}).get("referenceCode") for r in earlier}
        reference_in_use(reference, taken=reference in used)
        amount_fen: int | None = None
        refund_amount = data["amountTransaction"]["refundAmount"]
        information = refund_amount.get("chargingInformation")
        if information is not None:
            _currency(information["currency"])
            amount_fen = _fen(information["amount"])
        payment_amount = (paid.request.get("amountTransaction") or {}).get("paymentAmount") or {}
        _same_tax_management(payment_amount, refund_amount)
        details_fen = _details_consistent(payment_amount, refund_amount, earlier)
        # The refund is what refundDetails add up to: a partial one's chargingInformation must
        # say the same; a total one (the whole rest, CAMARA names no details for it) only
        # with details that add up to that rest.
        if details_fen is not None:
            expected = amount_fen
            if expected is None:
                expected = billing.charge_refundable_fen(
                    app_id=app_id, payment_id=payment_id, phone_number=self.owner_number(request)
                )
            if details_fen != expected:
                raise RefundDetailsMismatch(
                    details={"amount_fen": expected, "refund_details_fen": details_fen}
                )
        refund = billing.charge_refund(
            app_id=app_id, payment_id=payment_id, amount_fen=amount_fen,
            reason=data.get("reason", ""), request=_request_kept(data),
        )  # fmt: skip
        created = next(r for r in self.refunds(request) if r.refund_id == refund.refund_id)
        return Response(refund_body(created), status=201)

    def _list(self, request: GatewayRequest) -> Response:
        query = request.query_params
        listed = list_query(
            query, code_prefix="CARRIER_BILLING_REFUND", date_param="refundCreationDate"
        )
        page, per_page, order = listed.page, listed.per_page, listed.order
        created_from, created_to = listed.created_from, listed.created_to
        wanted = {s for value in query.getlist("refundStatus") for s in value.split(",") if s}
        if wanted - {"processing", "denied", "succeeded"}:
            raise CapabilityError(400, "INVALID_ARGUMENT", _("Unknown refundStatus."))
        bodies = [refund_body(r) for r in self.refunds(request)]
        bodies = [
            b
            for b in bodies
            if (not wanted or b["refundStatus"] in wanted)
            and (created_from is None or parse_datetime(b["refundCreationDate"]) >= created_from)
            and (created_to is None or parse_datetime(b["refundCreationDate"]) <= created_to)
        ]
        if order == "desc":
            bodies.reverse()
        start = (page - 1) * per_page
        response = Response(bodies[start : start + per_page])
        response["X-Total-Count"] = str(len(bodies))
        response["Content-Last-Key"] = str(min(len(bodies), start + per_page))
        return response


@extend_schema_view(get=extend_schema(operation_id="retrieveRefund"))
class RetrieveRefund(RefundView):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        for refund in self.refunds(request):
            if refund.refund_id == self.kwargs["refund_id"]:
                return Response(refund_body(refund))
        raise CapabilityError(404, "NOT_FOUND", _("The specified resource is not found."))


@extend_schema_view(get=extend_schema(operation_id="retrievePaymentRemainingAmount"))
class RetrievePaymentRemainingAmount(RefundView):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        left = billing.charge_refundable_fen(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            phone_number=self.owner_number(request),
        )  # fmt: skip
        return Response({"amount": yuan(left), "currency": CURRENCY})
