"""/api/v1/flash-sales/<id>/buy/ and /claim/: win units of a flash sale (秒杀), then follow the
order a worker places for them."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.marketing.errors import FlashClaimNotFound
from apps.orders import services


class FlashBuyInput(StrictSerializer):
    quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)
    recipient = serializers.CharField(max_length=32, required=False, default="")
    points = serializers.IntegerField(min_value=0, default=0)


class FlashPurchaseOutput(serializers.Serializer):
    claim_id = serializers.IntegerField()
    sale_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=["reserved", "ordered", "paid", "released"],
        help_text="reserved: won, the order is being placed; ordered: pay order_number; "
        "released: the units went back (release_code says why)",
    )
    order_number = serializers.CharField(help_text="Set once the order is placed")
    release_code = serializers.CharField()


class FlashBuyApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Buy in a flash sale: the units are yours (202) and the order follows, or a refusal",
        request=FlashBuyInput,
        responses={202: FlashPurchaseOutput, **{s: OpenApiResponse(ErrorSerializer) for s in (400, 404, 409)}},
    )  # fmt: skip
    def post(self, request: Request, sale_id: int) -> Response:
        data = FlashBuyInput(data=request.data)
        data.is_valid(raise_exception=True)
        won = services.flash_buy(
            user_id=cast(int, request.user.pk), sale_id=sale_id, **data.validated_data
        )
        return Response(FlashPurchaseOutput(asdict(won)).data, status=status.HTTP_202_ACCEPTED)


class FlashClaimApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"], summary="Your claim of a flash sale: poll it until the order is placed",
        responses={200: FlashPurchaseOutput, 404: OpenApiResponse(ErrorSerializer)},
    )  # fmt: skip
    def get(self, request: Request, sale_id: int) -> Response:
        held = services.flash_purchase_of(sale_id=sale_id, user_id=cast(int, request.user.pk))
        if held is None:
            raise FlashClaimNotFound()
        return Response(FlashPurchaseOutput(asdict(held)).data)
