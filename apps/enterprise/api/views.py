"""Bulk distribution API: upload a file, read a batch's progress and results, retry failures."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer, StrictSerializer
from apps.enterprise import billing, parsing, selectors, services
from apps.enterprise.selectors import BatchProgress

_ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 402, 403, 404, 409)}


class BulkBatchOutput(serializers.Serializer):
    batch_no = serializers.CharField()
    file_name = serializers.CharField()
    status = serializers.ChoiceField(choices=["running", "completed"])
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    invalid = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Waiting or being delivered")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Refused by the carrier; retry sends them again")
    charged_fen = serializers.IntegerField()
    rate_per_second = serializers.FloatField(help_text="Rows finished per second, last 10 s")


class BulkBatchCreatedOutput(BulkBatchOutput):
    created = serializers.BooleanField(help_text="False: this file was uploaded before")


class BulkUploadInput(StrictSerializer):
    file = serializers.FileField(help_text="CSV or XLSX: a number and a data-pack SKU code per row")

    def validate_file(self, value: Any) -> Any:
        if value.size > parsing.MAX_BYTES:
            raise serializers.ValidationError("At most 5 MB.")
        return value


class BulkRetryOutput(serializers.Serializer):
    retried = serializers.IntegerField()


class PrepaidBalanceOutput(serializers.Serializer):
    available_fen = serializers.IntegerField()
    held_fen = serializers.IntegerField()


def _uid(request: Request) -> int:
    user_id = cast(int, request.user.pk)
    selectors.distributor_check(user_id=user_id)
    return user_id


def _batch(progress: BatchProgress) -> dict[str, Any]:
    return dict(BulkBatchOutput(asdict(progress)).data)


class BatchesApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="bulk_batches_list", responses={200: BulkBatchOutput(many=True), **_ERRORS}
    )
    def get(self, request: Request) -> Response:
        """The caller's latest 50 batches, newest first."""
        return Response([_batch(b) for b in selectors.batches_for(owner_id=_uid(request))])

    @extend_schema(
        operation_id="bulk_batches_create", request=BulkUploadInput,
        responses={201: BulkBatchCreatedOutput, 200: BulkBatchCreatedOutput, **_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        """Upload a distribution file. The same file again answers 200 with its first batch and
        sends nothing; 402 when the prepaid balance does not cover the valid rows."""
        user_id = _uid(request)
        data = BulkUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        created = services.bulk_batch_create(
            owner_id=user_id, file_name=upload.name, content=upload.read()
        )
        body = _batch(selectors.batch_progress(batch_no=created.batch_no, owner_id=user_id))
        return Response(
            {**body, "created": created.created},
            status=status.HTTP_201_CREATED if created.created else status.HTTP_200_OK,
        )


class BatchApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="bulk_batch_get", responses={200: BulkBatchOutput, **_ERRORS})
    def get(self, request: Request, batch_no: str) -> Response:
        """A batch's progress: poll it until ``status`` is ``completed``."""
        return Response(_batch(selectors.batch_progress(batch_no=batch_no, owner_id=_uid(request))))


class BatchResultsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="bulk_batch_results",
        responses={(200, "text/csv"): OpenApiTypes.STR, **_ERRORS},
        description="Per-row results as CSV: line, number, pack, status, error_code, price_fen, carrier_request_id.",
    )  # fmt: skip
    def get(self, request: Request, batch_no: str) -> StreamingHttpResponse:
        lines = selectors.batch_results_csv(batch_no=batch_no, owner_id=_uid(request))
        first = next(lines)  # an unknown batch raises here, before the response starts
        response = StreamingHttpResponse(
            _chain(first, lines), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{batch_no}-results.csv"'
        return response


def _chain(first: str, rest: Any) -> Any:
    yield first
    yield from rest


class BatchRetryApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="bulk_batch_retry", request=None, responses={200: BulkRetryOutput, **_ERRORS}
    )
    def post(self, request: Request, batch_no: str) -> Response:
        """Send the failed rows of a finished batch again, under their first idempotency keys."""
        user_id = _uid(request)
        count = services.bulk_batch_retry_failed(
            batch_no=batch_no, owner_id=user_id, actor_id=user_id
        )
        return Response({"retried": count})


class PrepaidBalanceApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="enterprise_balance", responses={200: PrepaidBalanceOutput, **_ERRORS}
    )
    def get(self, request: Request) -> Response:
        """The enterprise's prepaid balance, available and held for rows in flight (fen)."""
        return Response(asdict(billing.prepaid_balance(enterprise_id=_uid(request))))
