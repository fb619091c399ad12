"""API for physical goods: an order's parcels and tracking timeline, returns (same paths as before
the move from orders)."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.fulfilment.models import Courier
from apps.fulfilment.shipping import selectors, services
from apps.orders import selectors as order_selectors
from apps.orders.services.orders import OrderNotFound

_ERRORS = {k: OpenApiResponse(ErrorSerializer) for k in (400, 404, 409)}


class TrackingEventOutput(serializers.Serializer):
    status = serializers.CharField()
    status_label = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    location = serializers.CharField()
    description = serializers.CharField()
    applied = serializers.BooleanField(help_text="False: older than the parcel's state")


class ShipmentOutput(serializers.Serializer):
    courier = serializers.CharField()
    courier_label = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    line_ids = serializers.ListField(child=serializers.IntegerField())
    events = TrackingEventOutput(many=True)


class ReturnOutput(serializers.Serializer):
    id = serializers.IntegerField()
    line_id = serializers.IntegerField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    amount_fen = serializers.IntegerField()
    courier = serializers.CharField()
    tracking_number = serializers.CharField()
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReturnInput(StrictSerializer):
    line_id = serializers.IntegerField()
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")
    unopened = serializers.BooleanField(help_text="The buyer confirms the package is unopened")


class SendBackInput(StrictSerializer):
    courier = serializers.ChoiceField(choices=Courier.values)
    tracking_number = serializers.CharField(max_length=40)


def _uid(request: Request) -> int:
    return cast(int, request.user.pk)


def _own_order(request: Request, number: str) -> None:
    if order_selectors.order_get(number=number, user_id=_uid(request)) is None:
        raise OrderNotFound()


class OrderShipmentsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="My order's parcels with their tracking timelines",
        responses={200: ShipmentOutput(many=True), 404: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request, number: str) -> Response:
        _own_order(request, number)
        return Response(
            [ShipmentOutput(asdict(s)).data for s in selectors.order_shipments(number=number)]
        )


class OrderReturnsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"], summary="My order's returns", responses={200: ReturnOutput(many=True)}
    )
    def get(self, request: Request, number: str) -> Response:
        _own_order(request, number)
        returns = selectors.order_returns(number=number, user_id=_uid(request))
        return Response([ReturnOutput(asdict(r)).data for r in returns])

    @extend_schema(
        tags=["orders"],
        summary="Ask to return a delivered, unopened line (within 7 days of delivery)",
        request=ReturnInput,
        responses={201: ReturnOutput, **_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        data = ReturnInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.return_request(number=number, user_id=_uid(request), **data.validated_data)
        return Response(ReturnOutput(asdict(item)).data, status=status.HTTP_201_CREATED)


class ReturnSendBackApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Say which parcel carries an approved return back",
        request=SendBackInput,
        responses={200: ReturnOutput, **_ERRORS},
    )
    def post(self, request: Request, return_id: int) -> Response:
        data = SendBackInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.return_send_back(
            return_id=return_id, user_id=_uid(request), **data.validated_data
        )
        return Response(ReturnOutput(asdict(item)).data)
