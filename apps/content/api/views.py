"""The CP's server API: in-app charges and entitlement checks, signed with the CP's key.

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
from apps.content.models import Charge
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
        "channel": charge.channel, "chapter": charge.chapter, "error_code": charge.error_code or None,
    }  # fmt: skip
    if charge.channel in (Charge.Channel.WEB, Charge.Channel.IN_APP):
        # Web: where the subscriber pays. In-app: where the subscriber may type the texted
        # code instead of the app posting it back.
        body["pay_url"] = reverse("content:pay", args=[charge.pk])
    return body


class ChargeCreateIn(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    phone_number = serializers.CharField(max_length=20)
    cp_order_id = serializers.CharField(max_length=64)
    chapter = serializers.IntegerField(min_value=1, required=False)
    channel = serializers.ChoiceField(choices=["in_app", "web"], default="in_app")


class ChargesApi(CpSignedView):
    def post(self, request: Request) -> Response:
        data = ChargeCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        charge = services.charge_create(
            cp_id=self.cp_id, product_id=values["product_id"], phone_number=values["phone_number"],
            cp_order_id=values["cp_order_id"], chapter=values.get("chapter"), channel=values["channel"],
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
