"""The CP's server API: in-app charges, free trials and entitlement checks, signed with the
CP's key.

Every call carries ``Authorization: CH-HMAC-SHA256 Credential=<key id>, Signature=<hex>``,
``X-CH-Date`` (unix seconds) and ``X-CH-Nonce``, as the gateway's API (docs/content.md).
Errors are CAMARA-style ``{status, code, message}``.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.content import selectors, services
from apps.content.models import Charge, Trial
from apps.content.services import trials
from apps.content.services.signing import cp_call_verify
from apps.core import signing
from apps.core.phone import normalize_phone


class CpSignedView(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    cp_id: int

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raw = request._request
        self.cp_id = cp_call_verify(
            authorization=raw.headers.get("Authorization", ""), date=raw.headers.get(signing.DATE_HEADER, ""),
            nonce=raw.headers.get(signing.NONCE_HEADER, ""), method=raw.method or "",
            target=raw.get_full_path(), body=raw.body,
        )  # fmt: skip
        super().initial(request, *args, **kwargs)


def charge_body(charge: Charge) -> dict[str, Any]:
    body = {
        "charge_id": charge.pk, "cp_order_id": charge.cp_order_id, "product_id": charge.product_id,
        "phone_number": charge.msisdn, "amount_fen": charge.amount_fen, "status": charge.status,
        "channel": charge.channel, "chapter": charge.chapter, "price_point_id": charge.price_point_id,
        "billing_code": charge.price_point.billing_code if charge.price_point else None,
        "error_code": charge.error_code or None,
    }  # fmt: skip
    if charge.channel in (Charge.Channel.WEB, Charge.Channel.IN_APP):
        # Web: where the subscriber pays. In-app: where the subscriber may type the texted
        # code instead of the app posting it back.
        body["pay_url"] = reverse("content:pay", args=[charge.pk])
    return body


class ChargeCreateIn(serializers.Serializer):
    # The product, its price point, or both; only the product: its default price point.
    product_id = serializers.IntegerField(min_value=1, required=False)
    price_point_id = serializers.IntegerField(min_value=1, required=False)
    billing_code = serializers.CharField(max_length=32, required=False)
    phone_number = serializers.CharField(max_length=20)
    cp_order_id = serializers.CharField(max_length=64)
    chapter = serializers.IntegerField(min_value=1, required=False)
    channel = serializers.ChoiceField(choices=["in_app", "web"], default="in_app")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not ({"product_id", "price_point_id", "billing_code"} & attrs.keys()):
            raise serializers.ValidationError(
                {"product_id": "Name the product, or its price point or billing code."}
            )
        return attrs


class ChargesApi(CpSignedView):
    def post(self, request: Request) -> Response:
        data = ChargeCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        charge = services.charge_create(
            cp_id=self.cp_id, product_id=values.get("product_id"), phone_number=values["phone_number"],
            cp_order_id=values["cp_order_id"], chapter=values.get("chapter"), channel=values["channel"],
            price_point_id=values.get("price_point_id"), billing_code=values.get("billing_code", ""),
        )  # fmt: skip
        return Response(charge_body(charge), status=status.HTTP_201_CREATED)


class ChargeApi(CpSignedView):
    def get(self, request: Request, charge_id: str) -> Response:
        return Response(charge_body(services.charge_get(cp_id=self.cp_id, charge_id=charge_id)))


class ConfirmIn(serializers.Serializer):
    code = serializers.RegexField(r"^\d{4,8}$")


class ChargeConfirmApi(CpSignedView):
    def post(self, request: Request, charge_id: str) -> Response:
        data = ConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        charge = services.charge_confirm(
            charge_id=charge_id, code=data.validated_data["code"], cp_id=self.cp_id
        )
        return Response(charge_body(charge))


class ChargeRefundApi(CpSignedView):
    def post(self, request: Request, charge_id: str) -> Response:
        refund = services.charge_refund(
            cp_id=self.cp_id, charge_id=charge_id, reason=str(request.data.get("reason", ""))
        )
        body = (
            {
                "refund_id": refund.public_id,
                "status": refund.status,
                "amount_fen": refund.amount_fen,
            }
            if refund
            else {}
        )
        return Response(body, status=status.HTTP_201_CREATED)


class EntitlementQuery(serializers.Serializer):
    phone_number = serializers.CharField(max_length=20)
    product_id = serializers.IntegerField(min_value=1)
    chapter = serializers.IntegerField(min_value=1, required=False)


class EntitlementApi(CpSignedView):
    def get(self, request: Request) -> Response:
        query = EntitlementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        check = selectors.entitlement_check(
            cp_id=self.cp_id,
            phone=normalize_phone(values["phone_number"]),
            product_id=values["product_id"],
            chapter=values.get("chapter"),
        )
        return Response(check)


class ProductsApi(CpSignedView):
    def get(self, request: Request) -> Response:
        """The CP's products on sale (what its app may charge for)."""
        return Response({"products": selectors.products_on_sale(cp_id=self.cp_id)})


def trial_body(trial: Trial) -> dict[str, Any]:
    return {"trial_id": trial.pk, "cp_order_id": trial.cp_order_id, "product_id": trial.product_id,
            "price_point_id": trial.price_point_id, "phone_number": trial.msisdn, "status": trial.status,
            "subscription_id": trial.subscription_id}  # fmt: skip


class TrialCreateIn(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    # The price the subscription renews at after the trial (the default price point if none).
    price_point_id = serializers.IntegerField(min_value=1, required=False)
    billing_code = serializers.CharField(max_length=32, required=False)
    phone_number = serializers.CharField(max_length=20)
    cp_order_id = serializers.CharField(max_length=64)


class TrialsApi(CpSignedView):
    def post(self, request: Request) -> Response:
        """Start a subscriber's free trial: the subscriber is texted a code to confirm."""
        data = TrialCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        trial, _code = trials.trial_request(
            cp_id=self.cp_id, product_id=values["product_id"], phone_number=values["phone_number"],
            cp_order_id=values["cp_order_id"], price_point_id=values.get("price_point_id"),
            billing_code=values.get("billing_code", ""),
        )  # fmt: skip
        return Response(trial_body(trial), status=status.HTTP_201_CREATED)


class TrialApi(CpSignedView):
    def get(self, request: Request, trial_id: int) -> Response:
        return Response(trial_body(trials.trial_get(cp_id=self.cp_id, trial_id=trial_id)))


class TrialConfirmApi(CpSignedView):
    def post(self, request: Request, trial_id: int) -> Response:
        data = ConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        trial = trials.trial_confirm(
            cp_id=self.cp_id, trial_id=trial_id, code=data.validated_data["code"]
        )
        return Response(trial_body(trial))
