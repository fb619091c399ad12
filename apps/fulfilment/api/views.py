"""Card API: check a card and see its worth, redeem it, and a buyer's cards and their PINs."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import InvalidArgument
from apps.core.http import client_ip
from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.fulfilment import cards

_ERRORS = {k: OpenApiResponse(ErrorSerializer) for k in (400, 401, 404, 409, 429, 503)}


class CardInput(StrictSerializer):
    card_number = serializers.CharField(max_length=24)
    pin = serializers.CharField(max_length=24)
    msisdn = serializers.CharField(
        max_length=32, required=False, default="",
        help_text="Number to credit (recharge and data cards); point cards credit the caller's account",
    )  # fmt: skip


class RedeemInput(StrictSerializer):
    confirm_token = serializers.CharField(
        max_length=400, required=False, help_text="From a quote: redeems that card, no PIN needed"
    )
    card_number = serializers.CharField(max_length=24, required=False)
    pin = serializers.CharField(max_length=24, required=False)
    msisdn = serializers.CharField(max_length=32, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("confirm_token") and not (attrs.get("card_number") and attrs.get("pin")):
            raise serializers.ValidationError("Give confirm_token, or card_number and pin.")
        return attrs


class ValueOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["recharge", "data", "points"])
    face_value_fen = serializers.IntegerField()
    volume_mb = serializers.IntegerField()
    validity_days = serializers.IntegerField()
    points = serializers.IntegerField()


class QuoteOutput(serializers.Serializer):
    card_number = serializers.CharField()
    kind = serializers.CharField()
    value = ValueOutput()
    description = serializers.CharField()
    msisdn = serializers.CharField(help_text="Empty for point cards")
    confirm_token = serializers.CharField(help_text="Valid for 10 minutes, for this caller only")


class RedeemedOutput(serializers.Serializer):
    card_number = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    msisdn = serializers.CharField()
    amount_fen = serializers.IntegerField()
    volume_mb = serializers.IntegerField()
    points = serializers.IntegerField()


class SoldCardOutput(serializers.Serializer):
    number = serializers.CharField()
    masked_pin = serializers.CharField()
    status = serializers.CharField()
    description = serializers.CharField()
    expires_at = serializers.DateTimeField()
    line_id = serializers.IntegerField()


class PinOutput(serializers.Serializer):
    number = serializers.CharField()
    pin = serializers.CharField()


def _uid(request: Request) -> int:
    return cast(int, request.user.pk)


class CardQuoteApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["cards"], summary="Check a card and see what it is worth, without using it",
        description="Counts as a PIN try: 10 per hour per user and per address; five wrong PINs lock the card.",
        request=CardInput, responses={200: QuoteOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = CardInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        quote = cards.card_quote(number=v["card_number"], pin=v["pin"], msisdn=v["msisdn"],
                                 user_id=_uid(request), client_ip=client_ip(request))  # fmt: skip
        body = {**quote.__dict__, "value": quote.value.__dict__}
        return Response(QuoteOutput(body).data)


class CardRedeemApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["cards"], summary="Redeem a card, once",
        description="With a quote's confirm_token, or in one step with card_number, pin and msisdn. "
        "A 503 CARRIER_UNAVAILABLE means the outcome is unknown: repeat the same request; the card is never used twice.",
        request=RedeemInput, responses={200: RedeemedOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = RedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v.get("confirm_token"):
            done = cards.card_redeem_confirmed(
                confirm_token=v["confirm_token"], user_id=_uid(request)
            )
        else:
            done = cards.card_redeem(number=v["card_number"], pin=v["pin"], msisdn=v["msisdn"],
                                     user_id=_uid(request), client_ip=client_ip(request))  # fmt: skip
        return Response(RedeemedOutput(done.__dict__).data)


class PurchasedCardsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["cards"], summary="The cards the caller bought in an order (PINs masked)",
        parameters=[OpenApiParameter("order", str, required=True)],
        responses={200: SoldCardOutput(many=True), **_ERRORS},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        order = request.query_params.get("order", "")
        if not order:
            raise InvalidArgument(details={"order": "required"})
        sold = cards.cards_for_order(order_number=order, user_id=_uid(request))
        return Response(SoldCardOutput([c.__dict__ for c in sold], many=True).data)


class CardPinApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["cards"], summary="Show the PIN of a card the caller bought (audited)",
        request=None, responses={200: PinOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request, number: str) -> Response:
        pin = cards.card_pin_reveal(number=number, user_id=_uid(request))
        response = Response(PinOutput({"number": number, "pin": pin}).data)
        response["Cache-Control"] = "no-store"
        return response
