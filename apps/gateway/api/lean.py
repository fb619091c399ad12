"""The lean path of the hottest capability calls: a plain Django view, not DRF's request machinery.

``lean_view(SmsSend, parse=sms_send_input)`` answers ``POST /sms/v1/messages`` with the same
pipeline as ``CapabilityView`` (``_begin``: correlator, signature or token, allow-list, the one
Redis script for context version, nonce, rate limit and quota; ``_run``: idempotency and
``perform``; ``handle_exception`` and the same headers; metering and metrics), minus DRF's
``Request`` wrapper, content negotiation, parser selection and serializer: the body is read by a
strict hand parser that accepts only bodies the serializer would accept unchanged.

Anything else goes to the DRF view, **before** any side effect (no nonce spent, nothing
counted): another method, an ``Accept`` or ``Content-Type`` other than plain JSON, and every
body the hand parser does not accept (malformed JSON, unknown or missing fields, a number to
normalise, a duplicate...). The DRF view then refuses it exactly as before, so every error
body stays the one the conformance tests know (``test_sms_lean.py`` compares both paths).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.errors import DomainError
from apps.core.phone import InvalidPhoneNumber, normalize_phone
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import E164
from apps.gateway.capabilities.sms import MAX_RECIPIENTS, MAX_TEXT
from apps.gateway.errors import CapabilityError

_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8",
                         "application/json;charset=utf-8"})  # fmt: skip
_ACCEPTS = frozenset({"", "*/*", "application/json"})
_E164 = re.compile(E164)
# What DRF's CharField refuses besides length: NUL and lone surrogates.
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_RENDERER = JSONRenderer()
Parser = Callable[[bytes], dict[str, Any] | None]
# Calls answered by each path in this process (tests and the benchmark read it).
answered = {"lean": 0, "drf": 0}


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: DRF's strict parser refuses them


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body or len(body) > settings.JSON_MAX_BODY_BYTES:
        return None
    try:
        raw = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError too
        return None
    return raw if isinstance(raw, dict) else None


@functools.lru_cache(maxsize=65_536)
def _mobile_as_given(number: str) -> bool:
    """The number is CAMARA's E.164 and a mobile number already in its normal form."""
    if len(number) > 16 or not _E164.match(number):
        return False
    try:
        return normalize_phone(number) == number
    except InvalidPhoneNumber:
        return False


def _text(value: Any, *, max_length: int, trimmed: bool) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and (not trimmed or value.strip() == value)
        and not _BAD_CHARS.search(value)
    )


_URL_FIELD = serializers.URLField(max_length=500)


def _url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return bool(_URL_FIELD.run_validation(value) == value)
    except serializers.ValidationError:
        return False


def sms_send_input(body: bytes) -> dict[str, Any] | None:
    """``SendInput``'s validated data when the serializer would accept ``body`` as it is; else
    None (the DRF view then answers)."""
    raw = _json_object(body)
    if raw is None or not raw.keys() <= {"to", "message", "callbackUrl", "clientCorrelator"}:
        return None
    to, message = raw.get("to"), raw.get("message")
    if not isinstance(to, list) or not 0 < len(to) <= MAX_RECIPIENTS:
        return None
    if not all(isinstance(n, str) and _mobile_as_given(n) for n in to) or len(set(to)) != len(to):
        return None
    if not _text(message, max_length=MAX_TEXT, trimmed=False):
        return None
    if "callbackUrl" in raw and not _url(raw["callbackUrl"]):
        return None
    correlator = raw.get("clientCorrelator")
    if "clientCorrelator" in raw and not _text(correlator, max_length=128, trimmed=True):
        return None
    # The serializer's field order (the idempotency record stores this body).
    return {k: raw[k] for k in ("to", "message", "callbackUrl", "clientCorrelator") if k in raw}


def _plain_json(request: HttpRequest) -> bool:
    return (
        request.method == "POST"
        and request.META.get("CONTENT_TYPE", "").lower() in _JSON_TYPES
        and request.META.get("HTTP_ACCEPT", "").strip() in _ACCEPTS
    )


def lean_view(view_class: type[CapabilityView], *, parse: Parser) -> Callable[..., HttpResponse]:
    """A Django view answering ``view_class``'s calls on the lean path, its DRF view otherwise."""
    drf_view = view_class.as_view()

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        data = parse(request.body) if _plain_json(request) else None
        if data is None:
            answered["drf"] += 1
            return cast(HttpResponse, drf_view(request, *args, **kwargs))
        answered["lean"] += 1
        return _dispatch(view_class(), request, data, args, kwargs)

    view.__name__ = view.__qualname__ = view_class.__name__
    view.__doc__ = view_class.__doc__
    # The schema generator (drf-spectacular) documents the DRF view behind it.
    view.cls = drf_view.cls  # type: ignore[attr-defined]
    view.initkwargs = drf_view.initkwargs  # type: ignore[attr-defined]
    return csrf_exempt(view)  # signed calls, as DRF's view


def _dispatch(
    view: CapabilityView, request: HttpRequest, data: dict[str, Any], args: Any, kwargs: Any
) -> HttpResponse:
    """``CapabilityView.dispatch`` for an admitted-shape body, without DRF's Request."""
    view.args, view.kwargs, view.request = args, kwargs, request  # type: ignore[assignment]
    view.headers = view.default_response_headers
    started = view._reset()
    try:
        try:
            view._begin(request)
            response = view._run(cast(GatewayRequest, request), data)
        except (CapabilityError, DomainError) as exc:
            response = view.handle_exception(exc)
    except Exception:
        view._record(500, "INTERNAL", _elapsed(started))
        raise
    response = _finalize(view, response)
    view._record(response.status_code, view._error_code, _elapsed(started))
    return response


def _finalize(view: CapabilityView, response: Response) -> Response:
    """What DRF's ``finalize_response`` does for a JSON-only view, then the pipeline's headers."""
    response.accepted_renderer = _RENDERER
    response.accepted_media_type = _RENDERER.media_type
    response.renderer_context = {}  # type: ignore[attr-defined]
    for key, value in view.headers.items():
        response[key] = value
    view._call_headers(response)
    return response


def _elapsed(started: float) -> float:
    return time.perf_counter() - started
