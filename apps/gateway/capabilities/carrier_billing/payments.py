"""CAMARA CarrierBillingCheckOut v0.5 (r3.2) under ``/carrier-billing/v0.5``: ``preparePayment``,
``validatePayment``, ``confirmPayment``, ``cancelPayment``, ``retrievePayment``,
``retrievePayments``.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.carrier.errors import CarrierRejected
from apps.core.errors import DomainError
from apps.gateway import billing, callbacks
from apps.gateway.api.base import GatewayRequest
from apps.gateway.capabilities.carrier_billing.common import (
    CURRENCY,
    PAYMENT_STATUS,
    CarrierBillingView,
    PhoneNumberIn,
    PrepareIn,
    ValidateIn,
    _currency,
    _decimals,
    _fen,
    _request_kept,
    accepted,
    check_sink,
    list_query,
    reference_in_use,
    yuan,
)
from apps.gateway.capabilities.common import iso_utc, phone_number_identified
from apps.gateway.capability_errors import InvalidAuthorizationId, PaymentDenied
from apps.gateway.errors import CapabilityError
from apps.gateway.network import own_network
from apps.payments.errors import (
    CarrierBillingCodeInvalid,
    CarrierBillingDailyLimit,
    CarrierBillingMonthlyLimit,
)


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


def _over_cap(exc: DomainError, amount_fen: int) -> CapabilityError:
    """The subscriber's daily or monthly carrier-billing cap (MIIT's limits, the payments
    app's settings) as the document's 422 codes: the amount alone is over the cap, or what
    the subscriber already spent with it is."""
    if amount_fen > int((exc.details or {}).get("limit_fen", 0)):
        return CapabilityError(
            422, "CARRIER_BILLING.UNAUTHORIZED_AMOUNT", _("Unauthorized amount requested.")
        )
    return CapabilityError(
        422,
        "CARRIER_BILLING.USER_AMOUNT_THRESHOLD_OVERPASSED",
        _("The subscriber's accumulated carrier-billing payments would pass the allowed amount."),
    )


def _denied(exc: CarrierRejected) -> Exception:
    """The carrier's business refusals (a prepaid balance that does not cover the amount, a
    suspended line) are CAMARA's ``403 CARRIER_BILLING.PAYMENT_DENIED``; others as they are."""
    if exc.carrier_http_status in (402, 403):
        return PaymentDenied(details={"carrier_code": exc.carrier_code})
    return exc


def _reference_unused(request: GatewayRequest, reference: str) -> None:
    taken = billing.charge_reference_taken(app_id=request.gateway_app.app_id, reference=reference)
    reference_in_use(reference, taken=taken)


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
        view = _charge(request, data, billing.charge_prepare)
        body = payment_body(view)
        body["validationInfo"] = {"action": "validate", "authorizationId": view.authorization_id}
        return Response(body, status=201)


def _charge(request: GatewayRequest, data: dict[str, Any], opener: Any) -> billing.ChargeView:
    """Check a payment request (sink, referenceCode, number, amount) and open its charge with
    ``opener`` (``billing.charge_prepare`` or ``billing.charge_one_step``); the caps and the
    carrier's refusals in the document's codes."""
    check_sink(data)
    transaction = data["amountTransaction"]
    _reference_unused(request, transaction["referenceCode"])
    information = transaction["paymentAmount"]["chargingInformation"]
    phone_number = own_network(
        phone_number_identified(
            device_phone_number=request.device_phone_number, given=transaction.get("phoneNumber")
        )
    )
    _currency(information["currency"])
    amount_fen = _fen(information["amount"])
    url = callbacks.callback_url_choose(gateway_app=request.gateway_app, requested=None)
    meta = transaction["paymentAmount"].get("chargingMetaData") or {}
    try:
        return cast(billing.ChargeView, opener(
            gateway_app=request.gateway_app, msisdn=phone_number, amount_fen=amount_fen,
            description=information["description"], merchant_reference=transaction["referenceCode"],
            callback_url=url, request=_request_kept(data),
            merchant_identifier=meta.get("merchantIdentifier", ""),
        ))  # fmt: skip
    except (CarrierBillingDailyLimit, CarrierBillingMonthlyLimit) as exc:
        raise _over_cap(exc, amount_fen) from exc
    except CarrierRejected as exc:
        raise _denied(exc) from exc


@extend_schema_view(
    post=extend_schema(operation_id="createPayment"),
    get=extend_schema(operation_id="retrievePayments"),
)
class Payments(CarrierBillingView):
    """``GET``: the app's payments, filtered, newest first, a page at a time (``page``,
    ``perPage``). ``POST`` (one-step ``createPayment``): for a partner whose package carries
    the carrier's pre-authorised agreement (``Package.carrier_billing_one_step``: its
    subscribers consented to its charges when signing up with it), the bill is charged at once
    and the answer is the ``succeeded`` payment. Any other partner is refused with CAMARA's
    ``CARRIER_BILLING.PAYMENT_DENIED``, because the carrier charges a consumer's bill only
    after they confirmed the amount with the texted code (MIIT's second confirmation for
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

    @property
    def idempotent(self) -> bool:  # type: ignore[override]
        return getattr(self.request, "method", "") == "POST"

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return data["amountTransaction"].get("clientCorrelator")

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if request.method == "POST":
            if billing.pre_authorised_billing(app_id=request.gateway_app.app_id):
                return Response(
                    payment_body(_charge(request, data, billing.charge_one_step)), status=201
                )
            check_sink(data)
            transaction = data["amountTransaction"]
            _reference_unused(request, transaction["referenceCode"])
            own_network(
                phone_number_identified(
                    device_phone_number=request.device_phone_number,
                    given=transaction.get("phoneNumber"),
                )
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
        listed = list_query(query, code_prefix="CARRIER_BILLING", date_param="paymentCreationDate")
        page, per_page, order = listed.page, listed.per_page, listed.order
        created_from, created_to = listed.created_from, listed.created_to
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
        return accepted(204)


class _SecondStep(CarrierBillingView):
    """Confirm and cancel: the body may name the number (two-legged) and nothing else."""

    scope = "carrier-billing:payments:write"
    input_serializer = PhoneNumberIn
    writes = True
    http_method_names = ["post"]

    def _charge(self, request: GatewayRequest, data: dict[str, Any]) -> billing.ChargeView:
        phone_number = own_network(
            phone_number_identified(
                device_phone_number=request.device_phone_number, given=data.get("phoneNumber")
            )
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
        try:
            billing.charge_confirm(app_id=request.gateway_app.app_id, payment_id=view.payment_id)
        except CarrierRejected as exc:
            raise _denied(exc) from exc
        return accepted(202)


@extend_schema_view(post=extend_schema(operation_id="cancelPayment", responses={202: None}))
class CancelPayment(_SecondStep):
    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = self._charge(request, data)
        billing.charge_cancel(app_id=request.gateway_app.app_id, payment_id=view.payment_id)
        return accepted(202)
