"""Payments API: a payment's state, confirming a phone-bill charge with the texted code, and
finance's decision on a refund."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.payments import selectors, services
from apps.payments.errors import PaymentNotFound


class IntentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    purpose = serializers.CharField()
    reference = serializers.CharField()
    method = serializers.CharField()
    channel = serializers.CharField()
    amount_fen = serializers.IntegerField()
    refunded_fen = serializers.IntegerField()
    status = serializers.CharField()
    action = serializers.DictField()
    paid_at = serializers.DateTimeField(allow_null=True)


class CodeInput(StrictSerializer):
    code = serializers.RegexField(r"^\d{6}$")


def _mine(request: Request, public_id: str) -> services.IntentView:
    intent = selectors.intent_get(public_id=public_id)
    if intent.user_id != request.user.pk:
        raise PaymentNotFound()
    return intent


class PaymentDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["payments"],
        summary="A payment's state",
        responses={200: IntentOutput, 404: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(IntentOutput(asdict(_mine(request, public_id))).data)


class CarrierConfirmApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["payments"], summary="Confirm a phone-bill payment with the code the carrier texted",
                   request=CodeInput, responses={200: IntentOutput, 400: OpenApiResponse(ErrorSerializer), 403: OpenApiResponse(ErrorSerializer)})  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        _mine(request, public_id)
        intent = services.carrier_billing_confirm(
            public_id=public_id,
            user_id=cast(int, request.user.pk),
            code=data.validated_data["code"],
        )
        return Response(IntentOutput(asdict(intent)).data)


class RefundDecisionInput(StrictSerializer):
    approve = serializers.BooleanField()


class RefundOutput(serializers.Serializer):
    public_id = serializers.CharField()
    intent_public_id = serializers.CharField()
    amount_fen = serializers.IntegerField()
    status = serializers.CharField()
    requested_by_id = serializers.IntegerField(allow_null=True)
    first_approved_by_id = serializers.IntegerField(allow_null=True)


class CanDecideRefunds(permissions.BasePermission):
    """Finance: the same permission as the workbench's approve and reject actions."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("payments.change_refund"))


class RefundDecisionApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanDecideRefunds]

    @extend_schema(tags=["payments"], summary="Finance approves or rejects a requested refund (maker-checker)",
                   request=RefundDecisionInput, responses={200: RefundOutput, 403: OpenApiResponse(ErrorSerializer),
                                                           404: OpenApiResponse(ErrorSerializer), 409: OpenApiResponse(ErrorSerializer)})  # fmt: skip
    def post(self, request: Request, public_id: str) -> Response:
        data = RefundDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.refund_decide(
            refund_id=selectors.refund_get(public_id=public_id).id,
            approve=data.validated_data["approve"],
            actor_id=cast(int, request.user.pk),
        )
        return Response(RefundOutput(asdict(refund)).data)
