"""Orders API: checkout, list and detail, pay, cancel, ask for a refund (bearer token or session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.http import client_ip
from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.orders import selectors, services
from apps.orders.services.orders import OrderNotFound

_ERRORS = {k: OpenApiResponse(ErrorSerializer) for k in (400, 403, 404, 409, 429)}
# Sections that higher layers add to the order detail (fulfilment: each line's delivery), by
# name: ``render(user_id, order_number)`` returns plain JSON data.
_detail_sections: dict[str, Callable[[int, str], Any]] = {}


def order_api_section_register(name: str, render: Callable[[int, str], Any]) -> None:
    _detail_sections[name] = render


class ShippingInput(StrictSerializer):
    name = serializers.CharField(max_length=30)
    phone = serializers.CharField(max_length=20)
    province = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=20)
    address = serializers.CharField(max_length=120)


class RealNameInput(StrictSerializer):
    name = serializers.CharField(max_length=30)
    id_number = serializers.CharField(max_length=18)


class CheckoutInput(StrictSerializer):
    checkout_key = serializers.CharField(
        max_length=64, help_text="Your idempotency key for this checkout"
    )
    points = serializers.IntegerField(
        min_value=0, default=0, help_text="Points to spend (1 point = 1 fen)"
    )
    shipping = ShippingInput(required=False, help_text="Required when the cart has physical goods")
    real_name = RealNameInput(
        required=False, help_text="The SIM card's owner, checked with the carrier (SIM cards only)"
    )
    coupon_code = serializers.CharField(
        max_length=40,
        required=False,
        default="",
        help_text="A coupon you hold or one handed to you",
    )
    channel = serializers.CharField(
        max_length=32,
        required=False,
        default="",
        help_text="The channel code that brought you (unknown: 404 CHANNEL_NOT_FOUND)",
    )


class SimLineOutput(serializers.Serializer):
    msisdn = serializers.CharField()
    status = serializers.CharField(help_text="held, sold (awaiting activation), active...")
    held_until = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    sku_name = serializers.CharField()
    kind = serializers.CharField()
    unit_price_fen = serializers.IntegerField()
    quantity = serializers.IntegerField()
    total_fen = serializers.IntegerField()
    discount_fen = serializers.IntegerField(help_text="This line's share of the order's discount")
    recipient = serializers.CharField()
    fulfilment = serializers.CharField()
    sim = SimLineOutput(allow_null=True, help_text="A SIM card's number (order detail only)")


class DiscountOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    campaign_name = serializers.CharField()
    rule = serializers.CharField()
    discount_fen = serializers.IntegerField()
    gift_points = serializers.IntegerField()
    coupon_code = serializers.CharField()
    status = serializers.CharField(help_text="quote, held, used, released or returned")


class OrderOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    goods_fen = serializers.IntegerField()
    discount_fen = serializers.IntegerField(
        help_text="Campaigns and coupon; goods − discount − points = payable"
    )
    discounts = DiscountOutput(many=True, help_text="What each campaign gave (order detail only)")
    points_fen = serializers.IntegerField()
    payable_fen = serializers.IntegerField()
    refunded_fen = serializers.IntegerField()
    shipping = serializers.DictField()
    expires_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    lines = OrderLineOutput(many=True)


class OrderDetailOutput(OrderOutput):
    sections = serializers.DictField(
        help_text="What other apps add, by name: deliveries (each line's delivery: state, when, "
        "to which number, the parcel or hand-off), shipments (the physical lines' parcels "
        "with their tracking)"
    )


class PayInput(StrictSerializer):
    method = serializers.ChoiceField(choices=["alipay", "wechat", "unionpay", "carrier_billing"])
    channel = serializers.CharField(
        max_length=16,
        allow_blank=True,
        default="",
        help_text="alipay: page|wap; wechat: native|h5|jsapi; unionpay: front|mobile",
    )
    attempt_key = serializers.CharField(
        max_length=40, help_text="Idempotency key of this payment attempt"
    )
    risk_code = serializers.CharField(
        max_length=6, required=False, default="",
        help_text="The SMS code after a RISK_CHALLENGE_REQUIRED answer (same attempt_key)",
    )  # fmt: skip
    return_url = serializers.URLField(required=False, default="")


class IntentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    method = serializers.CharField()
    channel = serializers.CharField()
    amount_fen = serializers.IntegerField()
    status = serializers.CharField()
    action = serializers.DictField(help_text="redirect url, form to post, QR text, or carrier_code")


def _uid(request: Request) -> int:
    return cast(int, request.user.pk)


def _order(order: services.OrderView) -> dict[str, Any]:
    return OrderOutput(asdict(order)).data


class CheckoutApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Turn the cart into an order (idempotent per checkout_key)",
        request=CheckoutInput,
        responses={201: OrderOutput, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        shipping = data.validated_data.get("shipping")
        real_name = data.validated_data.get("real_name")
        order = services.checkout_submit(
            user_id=_uid(request), checkout_key=data.validated_data["checkout_key"],
            points=data.validated_data["points"], shipping=services.ShippingAddress(**shipping) if shipping else None,
            real_name=services.RealNameInput(**real_name) if real_name else None,
            coupon_code=data.validated_data["coupon_code"], channel_code=data.validated_data["channel"],
            channel_strict=True,
        )  # fmt: skip
        return Response(_order(order), status=status.HTTP_201_CREATED)


class OrderListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"], summary="My orders, newest first", responses={200: OrderOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        return Response([_order(o) for o in selectors.orders_for_user(user_id=_uid(request))])


class OrderDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="One of my orders, with what other apps add (deliveries, parcels)",
        responses={200: OrderDetailOutput, 404: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request, number: str) -> Response:
        order = selectors.order_get(number=number, user_id=_uid(request))
        if order is None:
            raise OrderNotFound()
        sections = {
            name: render(_uid(request), number) for name, render in _detail_sections.items()
        }
        return Response(
            {**_order(order), "sections": sections}
        )  # fmt: skip


class OrderPayApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Start paying an order; returns what the client does next",
        request=PayInput,
        responses={201: IntentOutput, **_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        intent = services.order_pay(
            number=number, user_id=_uid(request), method=data.validated_data["method"],
            channel=data.validated_data["channel"], client_ip=client_ip(request) or "",
            attempt_key=data.validated_data["attempt_key"], return_url=data.validated_data["return_url"],
            risk_code=data.validated_data["risk_code"], msisdn=getattr(request.user, "phone", ""),
        )  # fmt: skip
        return Response(IntentOutput(asdict(intent)).data, status=status.HTTP_201_CREATED)


class OrderCancelApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Cancel an unpaid order",
        request=None,
        responses={200: OrderOutput, **_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return Response(_order(services.order_cancel(number=number, user_id=_uid(request))))


class RefundInput(StrictSerializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, default="")


class OrderRefundApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        summary="Ask for a refund of a paid order (finance approves)",
        request=RefundInput,
        responses={202: None, **_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        ids = services.order_refund_request(
            number=number, user_id=_uid(request), reason=data.validated_data["reason"]
        )
        return Response({"refunds": ids}, status=status.HTTP_202_ACCEPTED)
