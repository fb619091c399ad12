"""What CAMARA's carrier-billing and refund APIs share: our states in CAMARA's words, the
amount and charging serializers, yuan/fen at the edge, the sink rules, the request as kept, the
base view and the query-string readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.money import FEN_PER_YUAN, MoneyError, to_fen
from apps.core.serializers import StrictSerializer
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import PhoneNumberField, TextField
from apps.gateway.errors import CapabilityError
from apps.gateway.idempotency import HEADER as IDEMPOTENCY_HEADER

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


class _EmptyJson(Response):
    """No body, yet ``Content-Type: application/json``: DRF drops the header of an empty body
    while rendering, so it is put back afterwards."""

    @property
    def rendered_content(self) -> Any:  # bytes, though the stubs say str
        content = super().rendered_content
        self["Content-Type"] = "application/json"
        return content


def accepted(status: int) -> Response:
    """An empty ``202``/``204`` answer that says ``Content-Type: application/json``, as CAMARA's
    features check on every answer."""
    return _EmptyJson(status=status)


def reference_in_use(reference: str, *, taken: bool) -> None:
    """CAMARA's ``409 ALREADY_EXISTS`` for a ``referenceCode`` another request used."""
    if reference and taken:
        raise CapabilityError(
            409, "ALREADY_EXISTS", _("The referenceCode was already used by another request.")
        )


class CarrierBillingView(CapabilityView):
    """What the CAMARA carrier-billing views share: the capability and its 429 code."""

    capability = CAPABILITY
    # The documents list only TOO_MANY_REQUESTS for 429, quota or rate.
    quota_exceeded_code: ClassVar[str] = "TOO_MANY_REQUESTS"

    def owner_number(self, request: GatewayRequest) -> str | None:
        """A three-legged token sees only its own number's payments."""
        return request.device_phone_number

    def post(self, drf_request: Request, *args: Any, **kwargs: Any) -> Response:
        """A ``clientCorrelator`` already used with another request is CAMARA's
        ``400 INVALID_ARGUMENT`` here (the pipeline's ``409 CONFLICT`` is for the
        Idempotency-Key header, which these documents do not know)."""
        try:
            return super().post(drf_request, *args, **kwargs)
        except CapabilityError as exc:
            if exc.code != "CONFLICT" or IDEMPOTENCY_HEADER in drf_request.headers:
                raise
            raise CapabilityError(
                400,
                "INVALID_ARGUMENT",
                _("This clientCorrelator was already used with another request."),
            ) from exc


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


@dataclass(frozen=True)
class ListQuery:
    """The paging, date range and order of a CAMARA list operation's query string."""

    page: int
    per_page: int
    created_from: Any
    created_to: Any
    order: str


def list_query(query: Any, *, code_prefix: str, date_param: str) -> ListQuery:
    """Parse ``page``, ``perPage``, ``<date_param>.gte/.lte`` and ``order``; the refusals carry
    the API's own code prefix (``CARRIER_BILLING`` or ``CARRIER_BILLING_REFUND``)."""
    page = _positive_int(query.get("page"), "page", 1)
    per_page = _positive_int(query.get("perPage"), "perPage", 10)
    if per_page > MAX_PER_PAGE:
        raise CapabilityError(
            400,
            f"{code_prefix}.TOO_MANY_MATCHING_RECORDS",
            _("perPage is at most %(n)d.") % {"n": MAX_PER_PAGE},
        )
    created_from = _moment(query.get(f"{date_param}.gte"), f"{date_param}.gte")
    created_to = _moment(query.get(f"{date_param}.lte"), f"{date_param}.lte")
    if created_from and created_to and created_from > created_to:
        raise CapabilityError(
            400, f"{code_prefix}.INVALID_DATE_RANGE", _("The date range is inverted.")
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise CapabilityError(400, "INVALID_ARGUMENT", _("order is asc or desc."))
    return ListQuery(page, per_page, created_from, created_to, order)
