"""/api/v1/flash-sales/<id>/buy/: buy in a flash sale (秒杀)."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.orders import services
from apps.orders.api.order_views import OrderOutput


class FlashBuyInput(StrictSerializer):
    checkout_key = serializers.CharField(max_length=64, help_text="Your idempotency key")
    quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)
    recipient = serializers.CharField(max_length=32, required=False, default="")
    points = serializers.IntegerField(min_value=0, default=0)


class FlashBuyApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"], summary="Buy in a flash sale: an order at the flash price, or a refusal",
        request=FlashBuyInput,
        responses={201: OrderOutput, **{s: OpenApiResponse(ErrorSerializer) for s in (400, 404, 409)}},
    )  # fmt: skip
    def post(self, request: Request, sale_id: int) -> Response:
        data = FlashBuyInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.flash_buy(
            user_id=cast(int, request.user.pk), sale_id=sale_id, **data.validated_data
        )
        return Response(OrderOutput(asdict(order)).data, status=status.HTTP_201_CREATED)
