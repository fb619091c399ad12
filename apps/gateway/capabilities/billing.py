"""Carrier billing, after CAMARA CarrierBillingCheckOut: prepare, validate, confirm, cancel, read,
and refunds after its companion refund API. Money is integer fen (``amountFen``).

``POST /carrier-billing/v1/payments/prepare`` texts the subscriber a code; ``/validate`` passes
it on; ``/confirm`` charges the bill; ``/cancel`` gives up; ``POST /carrier-billing-refund/v1/
refunds`` gives part or all of a charge back.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import billing, callbacks
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import MobileNumberField, iso_utc

CAPABILITY = "carrier-billing"


class PrepareInput(StrictSerializer):
    phoneNumber = MobileNumberField()  # noqa: N815 - CAMARA style
    amountFen = serializers.IntegerField(min_value=1, max_value=10_000_000)  # noqa: N815
    description = serializers.CharField(max_length=60)
    merchantReference = serializers.CharField(max_length=64, required=False)  # noqa: N815
    callbackUrl = serializers.URLField(max_length=500, required=False)  # noqa: N815
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815


class ValidateInput(StrictSerializer):
    code = serializers.RegexField(r"^[0-9]{4,8}$")


class EmptyInput(StrictSerializer):
    """Confirm and cancel take no fields."""


class ChargeRefundInput(StrictSerializer):
    paymentId = serializers.CharField(max_length=32)  # noqa: N815
    amountFen = serializers.IntegerField(min_value=1, max_value=10_000_000)  # noqa: N815
    reason = serializers.CharField(max_length=100, required=False)
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815


class PaymentOut(serializers.Serializer):
    paymentId = serializers.CharField()  # noqa: N815
    paymentStatus = serializers.ChoiceField(  # noqa: N815
        ["pending", "validated", "succeeded", "cancelled", "failed"]
    )
    phoneNumber = serializers.CharField()  # noqa: N815
    amountFen = serializers.IntegerField()  # noqa: N815
    refundedFen = serializers.IntegerField()  # noqa: N815
    currency = serializers.CharField()
    description = serializers.CharField()
    merchantReference = serializers.CharField(allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815


class ChargeRefundOut(serializers.Serializer):
    refundId = serializers.CharField()  # noqa: N815
    paymentId = serializers.CharField()  # noqa: N815
    amountFen = serializers.IntegerField()  # noqa: N815
    refundStatus = serializers.CharField()  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815


def payment_body(view: billing.ChargeView) -> dict[str, Any]:
    return {
        "paymentId": view.payment_id,
        "paymentStatus": view.status,
        "phoneNumber": view.phone_number,
        "amountFen": view.amount_fen,
        "refundedFen": view.refunded_fen,
        "currency": "CNY",
        "description": view.description,
        "merchantReference": view.merchant_reference or None,
        "createdAt": iso_utc(view.created_at),
    }


@extend_schema_view(post=extend_schema(responses={201: PaymentOut}))
class PaymentPrepare(CapabilityView):
    capability = CAPABILITY
    scope = "carrier-billing:payments:create"
    input_serializer = PrepareInput
    writes = True
    idempotent = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        url = callbacks.callback_url_choose(
            gateway_app=request.gateway_app, requested=data.get("callbackUrl")
        )
        view = billing.charge_prepare(
            gateway_app=request.gateway_app, msisdn=data["phoneNumber"],
            amount_fen=data["amountFen"], description=data["description"],
            merchant_reference=data.get("merchantReference", ""), callback_url=url,
        )  # fmt: skip
        return Response(payment_body(view), status=201)


class PaymentRead(CapabilityView):
    capability = CAPABILITY
    output_serializer = PaymentOut
    scope = "carrier-billing:payments:read"
    http_method_names = ["get"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = billing.charge_get(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"]
        )
        return Response(payment_body(view))


class PaymentValidate(CapabilityView):
    capability = CAPABILITY
    output_serializer = PaymentOut
    scope = "carrier-billing:payments:write"
    input_serializer = ValidateInput
    writes = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = billing.charge_validate(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            code=data["code"],
        )  # fmt: skip
        return Response(payment_body(view))


class PaymentConfirm(CapabilityView):
    capability = CAPABILITY
    output_serializer = PaymentOut
    scope = "carrier-billing:payments:write"
    input_serializer = EmptyInput
    writes = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = billing.charge_confirm(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"]
        )
        return Response(payment_body(view))


class PaymentCancel(CapabilityView):
    capability = CAPABILITY
    output_serializer = PaymentOut
    scope = "carrier-billing:payments:write"
    input_serializer = EmptyInput
    writes = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = billing.charge_cancel(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"]
        )
        return Response(payment_body(view))


@extend_schema_view(post=extend_schema(responses={201: ChargeRefundOut}))
class RefundCreate(CapabilityView):
    capability = CAPABILITY
    scope = "carrier-billing-refund:refunds:create"
    input_serializer = ChargeRefundInput
    writes = True
    idempotent = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        refund = billing.charge_refund(
            app_id=request.gateway_app.app_id, payment_id=data["paymentId"],
            amount_fen=data["amountFen"], reason=data.get("reason", ""),
        )  # fmt: skip
        return Response(
            {
                "refundId": refund.refund_id,
                "paymentId": refund.payment_id,
                "amountFen": refund.amount_fen,
                "refundStatus": refund.status,
                "createdAt": iso_utc(refund.created_at),
            },
            status=201,
        )
