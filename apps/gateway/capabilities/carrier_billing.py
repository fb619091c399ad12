"""Carrier billing as CAMARA CarrierBillingCheckOut v0.5 (r3.2) serves it, under
``/carrier-billing/v0.5``: ``preparePayment``, ``validatePayment``, ``confirmPayment``,
``cancelPayment``, ``retrievePayment``, ``retrievePayments``; and the companion refund API
(``/carrier-billing-refund/v0.3``): ``createRefund``, ``retrieveRefunds``, ``retrieveRefund``,
``retrievePaymentRemainingAmount``.

Amounts are CAMARA's decimal yuan; they become integer fen at the edge (``core.money``) and
a fraction of a fen is refused. The carrier texts the subscriber a code on ``preparePayment``
(``validationInfo.action`` is ``validate``); the partner passes it on with ``validatePayment``.
The older ``/carrier-billing/v1`` paths (``billing.py``) stay, answering with ``Deprecation``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.money import FEN_PER_YUAN, MoneyError, to_fen
from apps.core.serializers import StrictSerializer
from apps.gateway import billing, callbacks
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import (
    PhoneNumberField,
    TextField,
    iso_utc,
    phone_number_identified,
)
from apps.gateway.capability_errors import InvalidAuthorizationId
from apps.gateway.errors import CapabilityError
from apps.payments.errors import CarrierBillingCodeInvalid

CAPABILITY = "carrier-billing"
CURRENCY = "CNY"
# Our charge states in CAMARA's words.
PAYMENT_STATUS = {
    "pending": "pending_validation",
    "validated": "reserved",
    "succeeded": "succeeded",
    "cancelled": "cancelled",
    "failed": "denied",
}
REFUND_STATUS = {"succeeded": "succeeded", "rejected": "denied", "failed": "denied"}
MAX_PER_PAGE = 100


def _amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=15, decimal_places=3, **kwargs)


class ChargingInformationIn(StrictSerializer):
    amount = _amount(min_value=Decimal("0.001"))
    currency = serializers.CharField(max_length=3)
    description = serializers.CharField(max_length=200)
    isTaxIncluded = serializers.BooleanField(required=False)  # noqa: N815 - CAMARA's names
    taxAmount = _amount(min_value=Decimal(0), required=False)  # noqa: N815


class ChargingMetaDataIn(StrictSerializer):
    merchantName = serializers.CharField(max_length=100, required=False)  # noqa: N815
    merchantIdentifier = serializers.CharField(max_length=64, required=False)  # noqa: N815
    fee = serializers.DecimalField(max_digits=15, decimal_places=2, required=False)
    purchaseCategoryCode = serializers.CharField(max_length=64, required=False)  # noqa: N815
    channel = serializers.CharField(max_length=64, required=False)
    serviceId = serializers.CharField(max_length=64, required=False)  # noqa: N815
    productId = serializers.CharField(max_length=64, required=False)  # noqa: N815


class PaymentItemIn(ChargingInformationIn):
    id = serializers.CharField(max_length=64)


class PaymentAmountIn(StrictSerializer):
    chargingInformation = ChargingInformationIn()  # noqa: N815
    chargingMetaData = ChargingMetaDataIn(required=False)  # noqa: N815
    paymentDetails = PaymentItemIn(many=True, required=False, min_length=1)  # type: ignore[call-arg]  # noqa: N815


class AmountTransactionIn(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815
    paymentAmount = PaymentAmountIn()  # noqa: N815
    referenceCode = serializers.CharField(max_length=64)  # noqa: N815


class SinkCredentialIn(serializers.Serializer):
    """CAMARA's sink credential (checked by ``check_sink``; never stored or answered back)."""

    credentialType = serializers.CharField()  # noqa: N815

    def to_internal_value(self, data: Any) -> Any:
        super().to_internal_value(data)
        return dict(data)


class PrepareIn(StrictSerializer):
    amountTransaction = AmountTransactionIn()  # noqa: N815
    sink = TextField(max_length=500, required=False)
    sinkCredential = SinkCredentialIn(required=False)  # noqa: N815


def check_sink(data: dict[str, Any]) -> None:
    """CAMARA's sink rules: an HTTPS URL, and a bearer access token as its credential."""
    sink = data.get("sink")
    if sink is not None and not re.match(r"^https://[^\s/]+", sink):
        raise CapabilityError(400, "INVALID_SINK", _("sink must be an HTTPS URL."))
    credential = data.get("sinkCredential")
    if credential is None:
        return
    if credential.get("credentialType") != "ACCESSTOKEN":
        raise CapabilityError(
            400, "INVALID_CREDENTIAL", _("Only an ACCESSTOKEN sink credential is supported.")
        )
    if credential.get("accessTokenType") != "bearer" or not credential.get("accessToken"):
        raise CapabilityError(400, "INVALID_TOKEN", _("Only a bearer access token is supported."))


class ValidateIn(StrictSerializer):
    authorizationId = serializers.CharField(max_length=64)  # noqa: N815
    code = serializers.CharField(max_length=16)


class PhoneNumberIn(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815


def yuan(amount_fen: int) -> Decimal:
    """Fen as CAMARA's decimal amount (the renderer writes it as a JSON number)."""
    return Decimal(amount_fen) / FEN_PER_YUAN


def _fen(amount: Decimal) -> int:
    try:
        return to_fen(amount)
    except MoneyError as exc:
        raise CapabilityError(
            400, "INVALID_ARGUMENT", _("The amount is more precise than a fen (0.01).")
        ) from exc


def _currency(currency: str) -> None:
    if currency != CURRENCY:
        raise CapabilityError(400, "INVALID_ARGUMENT", _("Only CNY amounts can be charged."))


def _request_kept(data: dict[str, Any]) -> dict[str, Any]:
    """The request as answered back: JSON-safe, without the sink credential (a secret)."""
    return dict(_json_safe({k: v for k, v in data.items() if k != "sinkCredential"}))


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _decimals(value: Any, keys: frozenset[str] = frozenset({"amount", "taxAmount", "fee"})) -> Any:
    """Amounts kept as text back to numbers for the answer."""
    if isinstance(value, dict):
        return {
            k: Decimal(v) if k in keys and isinstance(v, str) else _decimals(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def payment_body(view: billing.ChargeView) -> dict[str, Any]:
    """CAMARA's ``Payment`` of a charge (also ``PaymentCreated`` and the prepared answer)."""
    asked = _decimals(view.request)
    transaction = dict(asked.get("amountTransaction") or {})
    payment_amount = transaction.get("paymentAmount") or {
        "chargingInformation": {
            "amount": yuan(view.amount_fen),
            "currency": CURRENCY,
            "description": view.description,
        }
    }
    amount_transaction: dict[str, Any] = {
        "phoneNumber": view.phone_number,
        "paymentAmount": payment_amount,
        "referenceCode": transaction.get("referenceCode") or view.merchant_reference or "",
        "resourceURL": f"urn:payments:{view.payment_id}",
        "serverReferenceCode": view.payment_id,
    }
    if transaction.get("clientCorrelator"):
        amount_transaction["clientCorrelator"] = transaction["clientCorrelator"]
    body: dict[str, Any] = {
        "paymentId": view.payment_id,
        "amountTransaction": amount_transaction,
        "paymentStatus": PAYMENT_STATUS.get(view.status, "denied"),
        "paymentCreationDate": iso_utc(view.created_at),
    }
    if view.status == "succeeded":
        body["paymentDate"] = iso_utc(view.updated_at)
    if asked.get("sink"):
        body["sink"] = asked["sink"]
    return body


class CarrierBillingView(CapabilityView):
    """What the CAMARA carrier-billing views share: the capability and its 429 code."""

    capability = CAPABILITY
    # The documents list only TOO_MANY_REQUESTS for 429, quota or rate.
    quota_exceeded_code: ClassVar[str] = "TOO_MANY_REQUESTS"

    def owner_number(self, request: GatewayRequest) -> str | None:
        """A three-legged token sees only its own number's payments."""
        return request.device_phone_number


@extend_schema_view(post=extend_schema(operation_id="preparePayment"))
class PreparePayment(CarrierBillingView):
    """Reserve the amount: the carrier texts the subscriber a code to validate it with."""

    scope = "carrier-billing:payments:create"
    input_serializer = PrepareIn
    writes = True
    idempotent = True
    http_method_names = ["post"]

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return data["amountTransaction"].get("clientCorrelator")

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        check_sink(data)
        transaction = data["amountTransaction"]
        information = transaction["paymentAmount"]["chargingInformation"]
        phone_number = phone_number_identified(
            device_phone_number=request.device_phone_number, given=transaction.get("phoneNumber")
        )
        _currency(information["currency"])
        amount_fen = _fen(information["amount"])
        url = callbacks.callback_url_choose(gateway_app=request.gateway_app, requested=None)
        meta = transaction["paymentAmount"].get("chargingMetaData") or {}
        view = billing.charge_prepare(
            gateway_app=request.gateway_app, msisdn=phone_number, amount_fen=amount_fen,
            description=information["description"], merchant_reference=transaction["referenceCode"],
            callback_url=url, request=_request_kept(data),
            merchant_identifier=meta.get("merchantIdentifier", ""),
        )  # fmt: skip
        body = payment_body(view)
        body["validationInfo"] = {"action": "validate", "authorizationId": view.authorization_id}
        return Response(body, status=201)


@extend_schema_view(
    post=extend_schema(operation_id="createPayment"),
    get=extend_schema(operation_id="retrievePayments"),
)
class Payments(CarrierBillingView):
    """``GET``: the app's payments, filtered, newest first, a page at a time (``page``,
    ``perPage``). ``POST`` (one-step ``createPayment``): refused with CAMARA's
    ``CARRIER_BILLING.PAYMENT_DENIED``, because the carrier charges a bill only after the
    subscriber confirmed the amount with the texted code (MIIT's second confirmation for
    carrier billing), which is CAMARA's two-step flow: ``preparePayment`` then
    ``validatePayment`` and ``confirmPayment``."""

    http_method_names = ["get", "post"]

    @property
    def scope(self) -> str:  # type: ignore[override]
        creates = getattr(self.request, "method", "") == "POST"
        return "carrier-billing:payments:create" if creates else "carrier-billing:payments:read"

    @property
    def input_serializer(self) -> Any:  # type: ignore[override]
        return PrepareIn if getattr(self.request, "method", "") == "POST" else None

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if request.method == "POST":
            check_sink(data)
            transaction = data["amountTransaction"]
            phone_number_identified(
                device_phone_number=request.device_phone_number,
                given=transaction.get("phoneNumber"),
            )
            raise CapabilityError(
                403,
                "CARRIER_BILLING.PAYMENT_DENIED",
                _(
                    "This carrier charges a bill only after the subscriber confirms the amount "
                    "with a texted code: use preparePayment, validatePayment and confirmPayment."
                ),
            )
        query = request.query_params
        page = _positive_int(query.get("page"), "page", 1)
        per_page = _positive_int(query.get("perPage"), "perPage", 10)
        if per_page > MAX_PER_PAGE:
            raise CapabilityError(
                400,
                "CARRIER_BILLING.TOO_MANY_MATCHING_RECORDS",
                _("perPage is at most %(n)d.") % {"n": MAX_PER_PAGE},
            )
        created_from = _moment(query.get("paymentCreationDate.gte"), "paymentCreationDate.gte")
        created_to = _moment(query.get("paymentCreationDate.lte"), "paymentCreationDate.lte")
        if created_from and created_to and created_from > created_to:
            raise CapabilityError(
                400, "CARRIER_BILLING.INVALID_DATE_RANGE", _("The date range is inverted.")
            )
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise CapabilityError(400, "INVALID_ARGUMENT", _("order is asc or desc."))
        wanted = [s for value in query.getlist("paymentStatus") for s in value.split(",") if s]
        ours = {camara: our for our, camara in PAYMENT_STATUS.items()}
        if any(s not in ours and s != "processing" for s in wanted):
            raise CapabilityError(400, "INVALID_ARGUMENT", _("Unknown paymentStatus."))
        result = billing.charge_list(
            app_id=request.gateway_app.app_id, phone_number=self.owner_number(request),
            created_from=created_from, created_to=created_to,
            statuses=tuple(ours[s] for s in wanted if s in ours) or (("none",) if wanted else ()),
            merchant_identifier=query.get("merchantIdentifier", ""), newest_first=order == "desc",
            offset=(page - 1) * per_page, limit=per_page,
        )  # fmt: skip
        response = Response([payment_body(v) for v in result.charges])
        response["X-Total-Count"] = str(result.total)
        response["Content-Last-Key"] = str(min(result.total, (page - 1) * per_page + per_page))
        return response


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise CapabilityError(
            400, "INVALID_ARGUMENT", _("%(name)s must be a positive integer.") % {"name": name}
        )
    return int(raw)


def _moment(raw: str | None, name: str) -> Any:
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None or moment.tzinfo is None:
        raise CapabilityError(
            400,
            "INVALID_ARGUMENT",
            _("%(name)s must be an RFC 3339 time with a zone.") % {"name": name},
        )
    return moment


@extend_schema_view(get=extend_schema(operation_id="retrievePayment"))
class RetrievePayment(CarrierBillingView):
    scope = "carrier-billing:payments:read"
    http_method_names = ["get"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = billing.charge_get(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            phone_number=self.owner_number(request),
        )  # fmt: skip
        return Response(payment_body(view))


@extend_schema_view(post=extend_schema(operation_id="validatePayment", responses={204: None}))
class ValidatePayment(CarrierBillingView):
    """The code the subscriber received, with the prepared payment's ``authorizationId``."""

    scope = "carrier-billing:payments:write"
    input_serializer = ValidateIn
    writes = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        app_id, payment_id = request.gateway_app.app_id, self.kwargs["payment_id"]
        current = billing.charge_get(app_id=app_id, payment_id=payment_id)
        if data["authorizationId"] != current.authorization_id:
            raise InvalidAuthorizationId()
        if current.status != "pending":
            raise CapabilityError(409, "ALREADY_EXISTS", _("The payment was already validated."))
        try:
            billing.charge_validate(app_id=app_id, payment_id=payment_id, code=data["code"])
        except CarrierBillingCodeInvalid as exc:
            if exc.details.get("carrier_code") == "TOO_MANY_ATTEMPTS":
                raise CapabilityError(
                    400,
                    "CARRIER_BILLING.VALIDATION_FAILED",
                    _("Too many wrong codes; prepare a new payment."),
                ) from exc
            raise CapabilityError(
                400, "CARRIER_BILLING.INVALID_CODE", _("The code is not the one texted.")
            ) from exc
        return Response(status=204)


class _SecondStep(CarrierBillingView):
    """Confirm and cancel: the body may name the number (two-legged) and nothing else."""

    scope = "carrier-billing:payments:write"
    input_serializer = PhoneNumberIn
    writes = True
    http_method_names = ["post"]

    def _charge(self, request: GatewayRequest, data: dict[str, Any]) -> billing.ChargeView:
        phone_number = phone_number_identified(
            device_phone_number=request.device_phone_number, given=data.get("phoneNumber")
        )
        view = billing.charge_get(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"]
        )
        if view.phone_number != phone_number:
            raise CapabilityError(
                404, "IDENTIFIER_NOT_FOUND", _("The phone number is not the payment's.")
            )
        if view.status == "succeeded":
            raise CapabilityError(
                409, "CARRIER_BILLING.PAYMENT_CONFIRMED", _("The payment is already confirmed.")
            )
        if view.status == "cancelled":
            raise CapabilityError(
                409, "CARRIER_BILLING.PAYMENT_CANCELLED", _("The payment is already cancelled.")
            )
        return view


@extend_schema_view(post=extend_schema(operation_id="confirmPayment", responses={202: None}))
class ConfirmPayment(_SecondStep):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = self._charge(request, data)
        if view.status != "validated":
            raise CapabilityError(
                403,
                "CARRIER_BILLING.PAYMENT_DENIED",
                _("The subscriber has not validated the payment with the texted code."),
            )
        billing.charge_confirm(app_id=request.gateway_app.app_id, payment_id=view.payment_id)
        return Response(status=202)


@extend_schema_view(post=extend_schema(operation_id="cancelPayment", responses={202: None}))
class CancelPayment(_SecondStep):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = self._charge(request, data)
        billing.charge_cancel(app_id=request.gateway_app.app_id, payment_id=view.payment_id)
        return Response(status=202)


# --- The refund API (carrier-billing-refund v0.3) ------------------------------------------


class RefundChargingIn(ChargingInformationIn):
    pass


class RefundItemIn(ChargingInformationIn):
    paymentItemId = serializers.CharField(max_length=64)  # noqa: N815


class RefundAmountIn(StrictSerializer):
    chargingInformation = RefundChargingIn(required=False)  # noqa: N815
    chargingMetaData = ChargingMetaDataIn(required=False)  # noqa: N815
    refundDetails = RefundItemIn(many=True, required=False, min_length=1)  # type: ignore[call-arg]  # noqa: N815


class RefundTransactionIn(StrictSerializer):
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815
    refundAmount = RefundAmountIn()  # noqa: N815
    referenceCode = serializers.CharField(max_length=64)  # noqa: N815


class CreateRefundIn(StrictSerializer):
    type = serializers.ChoiceField(["total", "partial"])
    reason = serializers.CharField(max_length=100, required=False)
    amountTransaction = RefundTransactionIn()  # noqa: N815
    sink = TextField(max_length=500, required=False)
    sinkCredential = SinkCredentialIn(required=False)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_amount = "chargingInformation" in attrs["amountTransaction"]["refundAmount"]
        if (attrs["type"] == "partial") != has_amount:
            raise serializers.ValidationError(
                "A partial refund names its chargingInformation; a total refund does not."
            )
        return attrs


def refund_body(detail: billing.ChargeRefundDetail) -> dict[str, Any]:
    asked = _decimals(detail.request)
    kind = asked.get("type", "partial")
    transaction = dict(asked.get("amountTransaction") or {})
    refund_amount = transaction.get("refundAmount")
    if refund_amount is None:
        refund_amount = {
            "chargingInformation": {
                "amount": yuan(detail.amount_fen),
                "currency": CURRENCY,
                "description": detail.reason or "refund",
            }
        }
    amount_transaction: dict[str, Any] = {
        "refundAmount": refund_amount,
        "referenceCode": transaction.get("referenceCode") or detail.refund_id,
    }
    if transaction.get("clientCorrelator"):
        amount_transaction["clientCorrelator"] = transaction["clientCorrelator"]
    body: dict[str, Any] = {
        "refundId": detail.refund_id,
        "refundStatus": REFUND_STATUS.get(detail.status, "processing"),
        "type": kind,
        "refundCreationDate": iso_utc(detail.created_at),
        "amountTransaction": amount_transaction,
    }
    if detail.status == "succeeded":
        body["refundDate"] = iso_utc(detail.created_at)
    if asked.get("reason") or detail.reason:
        body["reason"] = asked.get("reason") or detail.reason
    if asked.get("sink"):
        body["sink"] = asked["sink"]
    return body


class RefundView(CarrierBillingView):
    http_method_names = ["get"]
    scope = "carrier-billing-refund:refunds:read"

    def refunds(self, request: GatewayRequest) -> tuple[billing.ChargeRefundDetail, ...]:
        return billing.charge_refunds(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            phone_number=self.owner_number(request),
        )  # fmt: skip


@extend_schema_view(
    post=extend_schema(operation_id="createRefund"),
    get=extend_schema(operation_id="retrieveRefunds"),
)
class Refunds(RefundView):
    """``POST``: give back all or part of a payment; ``GET``: its refunds, a page at a time."""

    http_method_names = ["get", "post"]
    idempotent = True

    @property
    def scope(self) -> str:  # type: ignore[override]
        creates = getattr(self.request, "method", "") == "POST"
        return "carrier-billing-refund:refunds:create" if creates else RefundView.scope

    @property
    def writes(self) -> bool:  # type: ignore[override]
        return getattr(self.request, "method", "") == "POST"

    @property
    def input_serializer(self) -> Any:  # type: ignore[override]
        return CreateRefundIn if getattr(self.request, "method", "") == "POST" else None

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return (data.get("amountTransaction") or {}).get("clientCorrelator")

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if request.method == "GET":
            return self._list(request)
        check_sink(data)
        app_id, payment_id = request.gateway_app.app_id, self.kwargs["payment_id"]
        billing.charge_get(
            app_id=app_id, payment_id=payment_id, phone_number=self.owner_number(request)
        )
        amount_fen: int | None = None
        information = data["amountTransaction"]["refundAmount"].get("chargingInformation")
        if information is not None:
            _currency(information["currency"])
            amount_fen = _fen(information["amount"])
        refund = billing.charge_refund(
            app_id=app_id, payment_id=payment_id, amount_fen=amount_fen,
            reason=data.get("reason", ""), request=_request_kept(data),
        )  # fmt: skip
        created = next(r for r in self.refunds(request) if r.refund_id == refund.refund_id)
        return Response(refund_body(created), status=201)

    def _list(self, request: GatewayRequest) -> Response:
        query = request.query_params
        page = _positive_int(query.get("page"), "page", 1)
        per_page = _positive_int(query.get("perPage"), "perPage", 10)
        if per_page > MAX_PER_PAGE:
            raise CapabilityError(
                400,
                "CARRIER_BILLING_REFUND.TOO_MANY_MATCHING_RECORDS",
                _("perPage is at most %(n)d.") % {"n": MAX_PER_PAGE},
            )
        created_from = _moment(query.get("refundCreationDate.gte"), "refundCreationDate.gte")
        created_to = _moment(query.get("refundCreationDate.lte"), "refundCreationDate.lte")
        if created_from and created_to and created_from > created_to:
            raise CapabilityError(
                400, "CARRIER_BILLING_REFUND.INVALID_DATE_RANGE", _("The date range is inverted.")
            )
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise CapabilityError(400, "INVALID_ARGUMENT", _("order is asc or desc."))
        wanted = {s for value in query.getlist("refundStatus") for s in value.split(",") if s}
        if wanted - {"processing", "denied", "succeeded"}:
            raise CapabilityError(400, "INVALID_ARGUMENT", _("Unknown refundStatus."))
        bodies = [refund_body(r) for r in self.refunds(request)]
        bodies = [
            b
            for b in bodies
            if (not wanted or b["refundStatus"] in wanted)
            and (created_from is None or parse_datetime(b["refundCreationDate"]) >= created_from)
            and (created_to is None or parse_datetime(b["refundCreationDate"]) <= created_to)
        ]
        if order == "desc":
            bodies.reverse()
        start = (page - 1) * per_page
        response = Response(bodies[start : start + per_page])
        response["X-Total-Count"] = str(len(bodies))
        response["Content-Last-Key"] = str(min(len(bodies), start + per_page))
        return response


@extend_schema_view(get=extend_schema(operation_id="retrieveRefund"))
class RetrieveRefund(RefundView):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        for refund in self.refunds(request):
            if refund.refund_id == self.kwargs["refund_id"]:
                return Response(refund_body(refund))
        raise CapabilityError(404, "NOT_FOUND", _("The specified resource is not found."))


@extend_schema_view(get=extend_schema(operation_id="retrievePaymentRemainingAmount"))
class RetrievePaymentRemainingAmount(RefundView):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        left = billing.charge_refundable_fen(
            app_id=request.gateway_app.app_id, payment_id=self.kwargs["payment_id"],
            phone_number=self.owner_number(request),
        )  # fmt: skip
        return Response({"amount": yuan(left), "currency": CURRENCY})
