"""Marketing API: the buyer's coupons, claiming from a batch, adding a typed code."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.marketing import selectors, services


class CouponOutput(serializers.Serializer):
    code = serializers.CharField()
    campaign_id = serializers.IntegerField()
    campaign_name = serializers.CharField()
    rule = serializers.CharField()
    status = serializers.CharField()
    valid_until = serializers.DateTimeField()


class CodeInput(StrictSerializer):
    code = serializers.CharField(max_length=40)


class ClaimInput(StrictSerializer):
    batch_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


_ERRORS = {s: OpenApiResponse(ErrorSerializer) for s in (400, 404, 409, 429)}


def _uid(request: Request) -> int:
    return int(request.user.pk or 0)


def _coupon(user_id: int, code: str) -> dict[str, object]:
    mine = next(
        c for c in selectors.coupons_for(user_id=user_id, usable_only=False) if c.code == code
    )
    return CouponOutput(asdict(mine)).data


class CouponListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["marketing"], summary="My coupons", responses={200: CouponOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        rows = selectors.coupons_for(user_id=_uid(request), usable_only=False)
        return Response(CouponOutput([asdict(c) for c in rows], many=True).data)

    @extend_schema(
        tags=["marketing"], summary="Add a coupon code handed to me (rate-limited)", request=CodeInput,
        responses={201: CouponOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        code = services.coupon_redeem(user_id=_uid(request), code=data.validated_data["code"])
        return Response(_coupon(_uid(request), code), status=status.HTTP_201_CREATED)


class CouponClaimApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["marketing"], summary="Claim the next coupon of a campaign's batch", request=ClaimInput,
        responses={201: CouponOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = ClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        code = services.coupon_claim(
            user_id=_uid(request), batch_id=data.validated_data["batch_id"]
        )
        return Response(_coupon(_uid(request), code), status=status.HTTP_201_CREATED)
