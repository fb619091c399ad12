"""The capability pipeline: every CAMARA-style view subclasses ``CapabilityView``.

Per call, in order: ``x-correlator`` check; authentication (an OAuth2 bearer token carrying
``scope``, or an HMAC-signed request by a credential whose app subscribes to ``capability``);
IP allow-list; one Redis round trip for the context version, the nonce, the rate limit and the
quota; the strict input body; ``Idempotency-Key`` / ``clientCorrelator``; ``perform``. Every
answer carries ``x-correlator`` and the RateLimit headers, is metered (buffered, written in
batches) and counted for Prometheus.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, cast

import redis
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import error_body
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.core.parsers import LimitedJSONParser
from apps.gateway import device_identity, metering, metrics, signing, tokens
from apps.gateway.api.schema import CapabilityAutoSchema
from apps.gateway.context import (
    AppContext,
    CredentialEntry,
    GatewayApp,
    context_current,
    context_for_app,
    context_for_client,
)
from apps.gateway.errors import CapabilityError, permission_denied, unauthenticated, unavailable
from apps.gateway.idempotency import IdempotentCall
from apps.gateway.limits import LimitDecision, Outcome, limits_check, nonce_key

logger = logging.getLogger(__name__)

# CAMARA Commonalities: the x-correlator header's pattern.
CORRELATOR_PATTERN = re.compile(r"^[a-zA-Z0-9\-_:;./<>{}]{0,256}$")


_API_EXCEPTION_CODES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


def django_request(request: Request | HttpRequest) -> HttpRequest:
    """Django's request under DRF's (the lean path passes Django's own)."""
    return cast(HttpRequest, getattr(request, "_request", request))


class GatewayRequest(Request):
    """A request the pipeline admitted (for typing ``perform``): it carries the caller and,
    for a three-legged token, the phone number of the device the token identifies."""

    gateway_app: GatewayApp
    device_phone_number: str | None


class CapabilityView(APIView):
    """Base of every capability view. Subclasses set the class attributes and ``perform``."""

    capability: ClassVar[str]  # "sim-swap": limit/quota/metering key and Prometheus label
    scope: ClassVar[str]  # "sim-swap:check": a bearer token must carry it
    input_serializer: ClassVar[type[serializers.Serializer] | None] = None
    # For the OpenAPI document only: the success body (or extend_schema(responses=...)).
    output_serializer: ClassVar[type[serializers.Serializer] | None] = None
    writes: ClassVar[bool] = False  # True: refuse 503 when Redis is down; False: pass, alarm
    idempotent: ClassVar[bool] = False  # True: honour Idempotency-Key or body clientCorrelator
    # The 429 code when the quota is used up (documents that list only TOO_MANY_REQUESTS).
    quota_exceeded_code: ClassVar[str] = "QUOTA_EXCEEDED"

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    # CAMARA bodies are JSON only: another content type is 415, and answers are always JSON.
    parser_classes = [LimitedJSONParser]  # size and depth limits before the decoder
    renderer_classes = [JSONRenderer]
    schema = CapabilityAutoSchema()

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        """Do the operation for ``request.gateway_app`` with the validated ``data`` (path
        arguments are in ``self.kwargs``); raise ``CapabilityError`` to refuse."""
        raise NotImplementedError

    # --- the pipeline -----------------------------------------------------------------------

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        started = self._reset()
        try:
            response = super().dispatch(request, *args, **kwargs)
        except Exception:
            # An unexpected failure becomes Django's 500 page; it is still a call to count.
            self._record(500, "INTERNAL", time.perf_counter() - started)
            raise
        self._record(response.status_code, self._error_code, time.perf_counter() - started)
        return response

    def _reset(self) -> float:
        """A new call's state; returns its start (``time.perf_counter``)."""
        self._call_id = uuid.uuid4()
        self._correlator = ""
        self._gateway_app: GatewayApp | None = None
        self._limits: LimitDecision | None = None
        self._error_code = ""
        self._device_phone_number: str | None = None
        return time.perf_counter()

    def _record(self, status_code: int, error_code: str, elapsed: float) -> None:
        metrics.observe(self.capability, status_code, elapsed)
        if self._gateway_app is not None:
            metering.meter_record(
                call_id=self._call_id,
                gateway_app=self._gateway_app,
                capability=self.capability,
                operation=self.operation_name(),
                subscription_id=self._limits.subscription.id
                if self._limits and self._limits.subscription
                else None,
                status_code=status_code,
                error_code=error_code,
                latency_us=int(elapsed * 1_000_000),
                correlator=self._correlator,
            )

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        """The body's repeat-safe key (CAMARA's ``clientCorrelator``), where the body has one."""
        value = data.get("clientCorrelator")
        return str(value) if value else None

    def operation_name(self) -> str:
        """The operation recorded with each call: the view's name unless a subclass says."""
        return type(self).__name__

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._begin(request)

    def _begin(self, request: Request | HttpRequest) -> None:
        """The correlator, then admission (shared with the lean path, ``api.lean``)."""
        given = request.headers.get("x-correlator")
        if given is not None and not CORRELATOR_PATTERN.match(given):
            self._correlator = str(uuid.uuid4())
            raise CapabilityError(400, "INVALID_ARGUMENT", _("The x-correlator header is invalid."))
        self._correlator = given or str(uuid.uuid4())
        admitted = cast(GatewayRequest, request)
        admitted.gateway_app = self._admit(request)
        admitted.device_phone_number = self._device_phone_number

    def _admit(self, request: Request | HttpRequest) -> GatewayApp:
        """Authenticate, authorise and count the call; return the caller."""
        now = timezone.now()
        header = request.headers.get("Authorization", "")
        reload = False
        for _attempt in range(2):
            context, credential, nonce = self._authenticate(request, header, now, reload)
            if not context.ip_allowed(client_ip(django_request(request))):
                raise permission_denied(_("Calls from this address are not allowed for this app."))
            gateway_app = context.gateway_app(credential)
            subscriptions = context.subscriptions_for(self.capability, now)
            if not subscriptions and not reload and context_current(context) is not context:
                # The app may have subscribed a moment ago in another process: read it again.
                reload = True
                continue
            if not subscriptions:
                raise permission_denied(
                    _("The app has no current subscription to this capability.")
                )
            try:
                decision = limits_check(
                    context=context,
                    environment=credential.environment,
                    capability=self.capability,
                    subscriptions=subscriptions,
                    call_id=self._call_id.hex,
                    nonce_key=nonce_key(
                        app_id=context.app_id, client_id=credential.client_id, nonce=nonce
                    )
                    if nonce
                    else None,
                    now=now,
                )
            except redis.RedisError as exc:
                self._gateway_app = gateway_app
                return self._redis_down(exc, gateway_app)
            if decision.outcome == Outcome.STALE:
                reload = True
                continue
            self._gateway_app = gateway_app
            self._limits = decision
            self._refuse_over_limits(decision)
            return gateway_app
        raise unavailable()

    def _authenticate(
        self, request: Request | HttpRequest, header: str, now: Any, reload: bool
    ) -> tuple[AppContext, CredentialEntry, str | None]:
        if header.startswith("Bearer "):
            return (*self._bearer(header[7:].strip(), now, reload), None)
        signed = signing.parse_authorization(header)
        if signed is None:
            raise unauthenticated()
        context = context_for_client(signed.client_id)
        if context is not None and reload:
            context = context_for_app(context.app_id, reload=True)
        credential = context.credential(signed.client_id, now) if context else None
        if context is None or credential is None:
            raise unauthenticated()
        date = request.headers.get(signing.DATE_HEADER, "")
        nonce = request.headers.get(signing.NONCE_HEADER, "")
        if not date.isdigit() or abs(int(date) - now.timestamp()) > signing.MAX_SKEW_SECONDS:
            raise unauthenticated(_("The request date is missing or outside the allowed window."))
        if not signing.NONCE_PATTERN.match(nonce):
            raise unauthenticated(_("The request nonce is missing or malformed."))
        expected = signing.sign(
            secret=credential.secret,
            date=date,
            nonce=nonce,
            method=request.method or "",
            target=django_request(request).get_full_path(),
            body=django_request(request).body,
        )
        if not signing.signature_matches(expected, signed.signature):
            raise unauthenticated(_("The request signature does not match."))
        return context, credential, nonce

    def _bearer(self, token: str, now: Any, reload: bool) -> tuple[AppContext, CredentialEntry]:
        try:
            info = tokens.token_lookup(token)
        except redis.RedisError as exc:
            metrics.redis_failure()
            logger.error("gateway: Redis unreachable, cannot check a bearer token: %s", exc)
            raise unavailable() from exc
        if info is None:
            raise unauthenticated()
        context = context_for_app(info.app_id, reload=reload)
        credential = context.credential(info.client_id, now) if context else None
        if context is None or credential is None or credential.id != info.credential_id:
            raise unauthenticated()
        if self.scope not in info.scopes:
            raise permission_denied(
                _("The access token does not carry the scope %(scope)s.") % {"scope": self.scope}
            )
        try:
            self._device_phone_number = device_identity.device_for_token(token)
        except redis.RedisError as exc:
            raise unavailable() from exc
        return context, credential

    def _redis_down(self, exc: Exception, gateway_app: GatewayApp) -> GatewayApp:
        metrics.redis_failure()
        if self.writes:
            logger.error("gateway: Redis unreachable, refusing %s: %s", self.capability, exc)
            raise unavailable()
        # Read-only checks go on without limits, quota or replay protection: raise the alarm.
        logger.error(
            "gateway: Redis unreachable, %s passes unlimited and unmetered for quota: %s",
            self.capability,
            exc,
        )
        return gateway_app

    def _refuse_over_limits(self, decision: LimitDecision) -> None:
        if decision.outcome == Outcome.REPLAYED:
            raise unauthenticated(_("This request nonce was already used."))
        if decision.outcome == Outcome.RATE_LIMITED:
            raise CapabilityError(
                429,
                "TOO_MANY_REQUESTS",
                _("Rate limit reached; retry after the indicated time."),
                headers={"Retry-After": str(decision.retry_after_seconds)},
            )
        if decision.outcome == Outcome.QUOTA_EXCEEDED:
            raise CapabilityError(
                429,
                self.quota_exceeded_code,
                _("The quota of the app's packages for this period is used up."),
                headers={"Retry-After": str(decision.retry_after_seconds)},
            )

    # --- the handler ------------------------------------------------------------------------

    def _handle(self, drf_request: Request, *args: Any, **kwargs: Any) -> Response:
        request = cast(GatewayRequest, drf_request)
        return self._run(request, self._input(request))

    def _run(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        """Idempotency, then ``perform`` (the lean path, ``api.lean``, enters here too)."""
        if not self.idempotent:
            return self.perform(request, data)
        assert request.gateway_app is not None
        call = IdempotentCall.begin(
            request=request,
            data=data,
            correlator=self.client_correlator(data),
            app_id=request.gateway_app.app_id,
            capability=self.capability,
        )
        if call is None:
            return self.perform(request, data)
        if call.replay is not None:
            return call.replay
        try:
            response = self.perform(request, data)
        except CapabilityError as exc:
            call.finish(exc.status, exc.as_body())
            raise
        except Exception:
            call.abandon()
            raise
        call.finish(response.status_code, response.data)
        return response

    get = post = put = patch = delete = _handle

    def _input(self, request: Request) -> dict[str, Any]:
        if self.input_serializer is None:
            return {}
        if request.method in ("GET", "DELETE"):
            raw: Any = request.query_params.dict()
        elif not request._request.body:
            raise CapabilityError(400, "INVALID_ARGUMENT", _("A JSON body is required."))
        else:
            raw = request.data
            if not isinstance(raw, dict):
                raise CapabilityError(400, "INVALID_ARGUMENT", _("The body must be a JSON object."))
        serializer = self.input_serializer(data=raw)
        unknown = sorted(set(raw) - set(serializer.fields))
        if unknown:
            raise CapabilityError(
                400,
                "INVALID_ARGUMENT",
                _("Unknown fields in the request: %(fields)s.") % {"fields": ", ".join(unknown)},
            )
        if not serializer.is_valid():
            raise CapabilityError(
                400,
                "INVALID_ARGUMENT",
                _("The request has invalid fields."),
                details=dict(serializer.errors),
            )
        return dict(serializer.validated_data)

    # --- errors and headers -----------------------------------------------------------------

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, CapabilityError):
            self._error_code = exc.code
            response = Response(exc.as_body(), status=exc.status)
            for name, value in exc.headers.items():
                response[name] = value
            return response
        if isinstance(exc, DomainError):
            self._error_code = exc.code
            return Response(exc.as_body(), status=exc.http_status)
        if isinstance(exc, exceptions.ParseError):
            self._error_code = "INVALID_ARGUMENT"
            body = CapabilityError(400, "INVALID_ARGUMENT", _("The body is not valid JSON."))
            return Response(body.as_body(), status=400)
        if isinstance(exc, exceptions.APIException):
            # 405, 406, 415 and the like: CAMARA's body too, never DRF's {"detail": ...}.
            code = _API_EXCEPTION_CODES.get(exc.status_code, "INVALID_ARGUMENT")
            self._error_code = code
            response = Response(
                error_body(exc.status_code, code, str(exc.detail)), status=exc.status_code
            )
            if isinstance(exc, exceptions.MethodNotAllowed):
                response["Allow"] = ", ".join(m.upper() for m in self.http_method_names)
            return response
        response = super().handle_exception(exc)
        if isinstance(response.data, dict):
            self._error_code = str(response.data.get("code", ""))
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        self._call_headers(response)
        return response

    def _call_headers(self, response: Any) -> None:
        """x-correlator, the JSON content type and the RateLimit headers of every answer."""
        response["x-correlator"] = self._correlator or str(uuid.uuid4())
        if not response.has_header("Content-Type"):
            response["Content-Type"] = "application/json"  # 202 and 204 too, as CAMARA says
        decision = self._limits
        if decision is not None and decision.rate_limit:
            response["RateLimit-Limit"] = str(decision.rate_limit)
            response["RateLimit-Remaining"] = str(max(0, decision.rate_remaining))
            response["RateLimit-Reset"] = str(decision.retry_after_seconds or 1)
            policy = f"{decision.rate_limit};w=1"
            if decision.quota_limit is not None:
                policy += f", {decision.quota_limit};w={decision.quota_reset_seconds}"
                if decision.quota_remaining is not None:
                    response["Quota-Remaining"] = str(decision.quota_remaining)
            response["RateLimit-Policy"] = policy


def capability_not_found(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    """An unknown path under a capability's prefix: CAMARA's JSON 404, never the mall's page."""
    given = request.headers.get("x-correlator", "")
    response = JsonResponse(
        error_body(404, "NOT_FOUND", str(_("The specified resource is not found."))), status=404
    )
    response["x-correlator"] = (
        given if CORRELATOR_PATTERN.match(given) and given else str(uuid.uuid4())
    )
    return response


def deprecated(view: Callable[..., Any], *, successor: str) -> Callable[..., Any]:
    """Serve an old path on: its answers say ``Deprecation: true`` and name the successor."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        response["Deprecation"] = "true"
        response["Link"] = f'<{successor}>; rel="successor-version"'
        return response

    return wrapped
