"""Cart API: the signed-in user's cart (or a guest's, by session cookie)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.orders import selectors, services
from apps.orders.api.order_views import DiscountOutput
from apps.orders.errors import CartLineNotFound

if TYPE_CHECKING:
    from apps.catalog.selectors import SkuForSale
    from apps.orders.models import CartLine


class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    sku_name = serializers.CharField()
    thumbnail_url = serializers.CharField()
    recipient = serializers.CharField()
    quantity = serializers.IntegerField()
    price_fen = serializers.IntegerField()
    subtotal_fen = serializers.IntegerField()
    on_sale = serializers.BooleanField()
    is_sim = serializers.BooleanField(help_text="A SIM card; recipient is its chosen number")
    held_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when the chosen number is held for you (null: lapsed)"
    )


class CartOutput(serializers.Serializer):
    lines = CartLineOutput(many=True)
    total_fen = serializers.IntegerField(help_text="Goods at today's prices")
    discount_fen = serializers.IntegerField(help_text="What today's campaigns take off")
    payable_fen = serializers.IntegerField()
    discounts = DiscountOutput(many=True)
    count = serializers.IntegerField()


MAX_KEY_LENGTH = 128
KEY_HEADER = "Idempotency-Key"


class AddInput(StrictSerializer):
    sku_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)
    recipient = serializers.CharField(
        max_length=32, required=False, default="", help_text="Mobile number, for electronic goods"
    )
    sim_number = serializers.CharField(
        max_length=32, required=False, default="", help_text="For a SIM card: the number chosen"
    )
    idempotency_key = serializers.CharField(
        max_length=MAX_KEY_LENGTH,
        required=False,
        default="",
        help_text="Your idempotency key for this add (or the Idempotency-Key header)",
    )


class QuantityInput(StrictSerializer):
    quantity = serializers.IntegerField(min_value=0, max_value=99)


_ERRORS = {
    400: OpenApiResponse(ErrorSerializer),
    404: OpenApiResponse(ErrorSerializer),
    409: OpenApiResponse(ErrorSerializer),
}


def _cart(request: Request, *, only: tuple[CartLine, SkuForSale] | None = None) -> Response:
    view = selectors.cart_view(owner=selectors.cart_owner(request), only=only)
    return Response(CartOutput(asdict(view) | {"payable_fen": view.payable_fen}).data)


class CartApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["cart"], summary="The cart at today's prices", responses={200: CartOutput})
    def get(self, request: Request) -> Response:
        return _cart(request)


class CartLinesApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["cart"],
        summary="Add a SKU to the cart (once per idempotency key)",
        description=(
            "With an idempotency key (the Idempotency-Key header or the idempotency_key field) "
            "the add happens once: a repeat under the same key is answered 201 with the cart "
            "as it is now and Idempotent-Replayed: true, and adds nothing; another add under "
            "the same key is 409 IDEMPOTENCY_CONFLICT. Without a key every call adds."
        ),
        request=AddInput,
        parameters=[
            OpenApiParameter(
                KEY_HEADER, str, OpenApiParameter.HEADER, required=False,
                description="Your idempotency key for this add (at most 128 characters)",
            )
        ],
        responses={201: CartOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = AddInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        key = request.headers.get(KEY_HEADER) or fields.pop("idempotency_key", "")
        fields.pop("idempotency_key", None)
        if len(key) > MAX_KEY_LENGTH:
            raise serializers.ValidationError(
                {KEY_HEADER: [_("The idempotency key is longer than 128 characters.")]}
            )
        owner = selectors.cart_owner(request, create=True)
        assert owner is not None
        added = services.cart_add_once(owner=owner, key=key, **fields)
        response = _cart(request, only=added.only)
        response.status_code = status.HTTP_201_CREATED
        if added.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CartLineApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity (0 removes it)",
        request=QuantityInput,
        responses={200: CartOutput, **_ERRORS},
    )
    def patch(self, request: Request, line_id: int) -> Response:
        data = QuantityInput(data=request.data)
        data.is_valid(raise_exception=True)
        owner = selectors.cart_owner(request)
        if owner is None:
            raise CartLineNotFound()
        services.cart_line_set_quantity(
            owner=owner, line_id=line_id, quantity=data.validated_data["quantity"]
        )
        return _cart(request)

    @extend_schema(tags=["cart"], summary="Remove a line", responses={200: CartOutput, **_ERRORS})
    def delete(self, request: Request, line_id: int) -> Response:
        owner = selectors.cart_owner(request)
        if owner is None:
            raise CartLineNotFound()
        services.cart_line_remove(owner=owner, line_id=line_id)
        return _cart(request)
