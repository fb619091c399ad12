"""Channel sales: ``POST /channel-sales/v1/orders`` places an order for a customer's number,
``GET /channel-sales/v1/orders/{orderId}`` reads one of the channel's orders.

CAMARA's conventions (camelCase, ``{status, code, message}``); the customer pays on
``paymentUrl``. The rules are apps/gateway/channel_sales.py's.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import channel_sales
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import MobileNumberField, iso_utc
from apps.orders.services.cart import MAX_QUANTITY


class PlaceInput(StrictSerializer):
    requestId = serializers.CharField(max_length=64)  # noqa: N815 - CAMARA style
    phoneNumber = MobileNumberField()  # noqa: N815
    skuId = serializers.IntegerField(min_value=1)  # noqa: N815
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class SaleOut(serializers.Serializer):
    orderId = serializers.CharField()  # noqa: N815
    status = serializers.CharField()
    phoneNumber = serializers.CharField()  # noqa: N815
    skuId = serializers.IntegerField()  # noqa: N815
    quantity = serializers.IntegerField()
    goodsFen = serializers.IntegerField()  # noqa: N815
    discountFen = serializers.IntegerField()  # noqa: N815
    payableFen = serializers.IntegerField()  # noqa: N815
    paymentUrl = serializers.URLField()  # noqa: N815
    expiresAt = serializers.DateTimeField()  # noqa: N815
    paidAt = serializers.DateTimeField(allow_null=True)  # noqa: N815


def sale_body(sale: channel_sales.ChannelSale) -> dict[str, Any]:
    return {
        "orderId": sale.order_id,
        "status": sale.status,
        "phoneNumber": sale.phone_number,
        "skuId": sale.sku_id,
        "quantity": sale.quantity,
        "goodsFen": sale.goods_fen,
        "discountFen": sale.discount_fen,
        "payableFen": sale.payable_fen,
        "paymentUrl": sale.payment_url,
        "expiresAt": iso_utc(sale.expires_at),
        "paidAt": iso_utc(sale.paid_at),
    }


@extend_schema_view(post=extend_schema(responses={201: SaleOut}))
class PlaceOrder(CapabilityView):
    """Place the order (once per ``requestId``); 201 with what the customer is to pay."""

    capability = "channel-sales"
    scope = "channel:orders:create"
    http_method_names = ["post"]
    input_serializer = PlaceInput
    writes = True
    idempotent = True

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return str(data["requestId"])

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        sale = channel_sales.channel_order_place(
            gateway_app=request.gateway_app, request_id=data["requestId"],
            msisdn=data["phoneNumber"], sku_id=data["skuId"], quantity=data["quantity"],
        )  # fmt: skip
        return Response(sale_body(sale), status=201)


class ReadOrder(CapabilityView):
    """One of the channel's orders: whether the customer paid, and the state of delivery."""

    capability = "channel-sales"
    scope = "channel:orders:read"
    http_method_names = ["get"]
    output_serializer = SaleOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        sale = channel_sales.channel_order_read(
            gateway_app=request.gateway_app, order_id=self.kwargs["order_id"]
        )
        return Response(sale_body(sale))
