"""The line API (``/api/v1/me/line/``): one view per operation over the line selectors/services."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import InvalidArgument
from apps.core.serializers import ErrorSerializer
from apps.mobile import selectors, services
from apps.mobile.models import LineRequest

_ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        404: "NOT_FOUND, BILL_NOT_AVAILABLE, OFFER_NOT_FOUND",
        409: "LINE_NOT_ON_NETWORK",
        503: "CARRIER_UNAVAILABLE",
    }.items()
}


class OfferOutput(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=["plan", "addon"])
    name = serializers.CharField()
    fee_fen = serializers.IntegerField(help_text="A plan's monthly fee or an add-on's price")
    data_mb = serializers.IntegerField()
    voice_minutes = serializers.IntegerField()


class PendingOutput(serializers.Serializer):
    plan = OfferOutput()
    effective_from = serializers.DateField()


class AddonOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    valid_until = serializers.DateTimeField()


class BucketOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["plan", "addon", "pack"])
    name = serializers.CharField()
    total_mb = serializers.IntegerField()
    used_mb = serializers.IntegerField()
    remaining_mb = serializers.IntegerField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()


class UsageOutput(serializers.Serializer):
    msisdn = serializers.CharField()
    as_of = serializers.DateTimeField()
    buckets = BucketOutput(many=True)
    total_mb = serializers.IntegerField()
    used_mb = serializers.IntegerField()
    remaining_mb = serializers.IntegerField()
    overage_fen = serializers.IntegerField(help_text="Charged this month beyond every bucket")


class LineOutput(serializers.Serializer):
    msisdn = serializers.CharField(source="info.msisdn")
    status = serializers.CharField(source="info.status")
    balance_fen = serializers.IntegerField(source="info.balance_fen")
    plan = OfferOutput(source="plan.plan", allow_null=True)
    plan_since = serializers.DateField(source="plan.since", allow_null=True)
    pending = PendingOutput(source="plan.pending", allow_null=True)
    addons = AddonOutput(source="plan.addons", many=True)
    data_total_mb = serializers.IntegerField(source="usage.total_mb")
    data_remaining_mb = serializers.IntegerField(source="usage.remaining_mb")


class BillLineOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["plan_fee", "addon", "usage", "topup"])
    description = serializers.CharField()
    amount_fen = serializers.IntegerField()
    at = serializers.DateTimeField()


class BillOutput(serializers.Serializer):
    msisdn = serializers.CharField()
    month = serializers.CharField()
    final = serializers.BooleanField(help_text="False while the month is in progress")
    plan_code = serializers.CharField(allow_null=True)
    plan_name = serializers.CharField(allow_null=True)
    items = BillLineOutput(many=True)
    charges_fen = serializers.IntegerField()
    topups_fen = serializers.IntegerField()
    balance_fen = serializers.IntegerField(help_text="The balance now")


class OffersOutput(serializers.Serializer):
    current_plan = serializers.CharField(allow_null=True)
    plans = OfferOutput(many=True)
    addons = OfferOutput(many=True)


class RequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LineRequest.Kind.choices)
    offer_code = serializers.CharField(max_length=32)


class RequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    offer_code = serializers.CharField()
    offer_name = serializers.CharField()
    fee_fen = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LineRequest.Status.choices)
    effective_from = serializers.DateField(allow_null=True)
    charged_fen = serializers.IntegerField()
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _uid(request: Any) -> int:
    return cast(int, request.user.pk)


class LineApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="My line: balance, plan, waiting change, data left",
                   responses={200: LineOutput, **_ERRORS})  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(LineOutput(selectors.line_summary(user_id=_uid(request))).data)


class LineUsageApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="My data buckets in force, earliest to expire first",
                   responses={200: UsageOutput, **_ERRORS})  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(UsageOutput(selectors.line_usage(user_id=_uid(request))).data)


class LineBillApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="My itemised bill of a month (YYYY-MM, last six months)",
                   responses={200: BillOutput, **_ERRORS})  # fmt: skip
    def get(self, request: Request, month: str) -> Response:
        bill = selectors.line_bill(user_id=_uid(request), month=month)
        return Response(BillOutput(bill).data)


class LineOffersApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="Plans I may change to and add-ons my plan may take",
                   responses={200: OffersOutput, **_ERRORS})  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(OffersOutput(selectors.line_offers(user_id=_uid(request))).data)


class LineRequestsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="My plan-change and add-on requests, newest first",
                   responses={200: RequestOutput(many=True)})  # fmt: skip
    def get(self, request: Request) -> Response:
        rows = selectors.line_requests(user_id=_uid(request))
        return Response(RequestOutput(rows, many=True).data)

    @extend_schema(
        tags=["me"],
        summary="Change my plan (from the first of next month) or add an add-on (now)",
        description=(
            "Checked against the carrier, recorded, then applied once under the request's key. "
            "The answer is the request; poll it until `status` leaves `submitted`. Refusals: "
            "PLAN_NOT_ALLOWED, ADDON_NOT_ALLOWED, SAME_PLAN, PENDING_CHANGE_EXISTS, "
            "INSUFFICIENT_BALANCE (402), LINE_REQUEST_IN_PROGRESS, IDEMPOTENCY_CONFLICT."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="1..64 characters; a repeat returns the first request",
            )
        ],
        request=RequestInput,
        responses={
            202: RequestOutput,
            400: OpenApiResponse(ErrorSerializer),
            402: OpenApiResponse(ErrorSerializer),
            422: OpenApiResponse(ErrorSerializer),
            **_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = RequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")
        if not 0 < len(key) <= 64:
            raise InvalidArgument(details={"Idempotency-Key": "required, 1..64 characters"})
        made = services.line_request_submit(
            user_id=_uid(request), kind=data.validated_data["kind"],
            offer_code=data.validated_data["offer_code"], request_key=key,
        )  # fmt: skip
        return Response(RequestOutput(made).data, status=status.HTTP_202_ACCEPTED)


class LineRequestApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["me"], summary="One of my requests",
                   responses={200: RequestOutput, 404: OpenApiResponse(ErrorSerializer)})  # fmt: skip
    def get(self, request: Request, request_id: int) -> Response:
        made = selectors.line_request_get(user_id=_uid(request), request_id=request_id)
        return Response(RequestOutput(made).data)
