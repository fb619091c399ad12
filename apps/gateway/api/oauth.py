"""``POST /oauth2/token``: OAuth2 client credentials (RFC 6749 §4.4) for capability calls, and
token exchange (RFC 8693) of the network's device token for a three-legged access token that
identifies the device (``apps.gateway.device_identity``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

import redis
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.carrier.errors import CarrierUnavailable
from apps.core.http import client_ip
from apps.core.ratelimit import rate_hit
from apps.gateway import device_identity, network, signing, tokens
from apps.gateway.capabilities_catalog import SCOPE_TO_CAPABILITY
from apps.gateway.context import context_current, context_for_client

TOKEN_REQUESTS_PER_MINUTE = 60


def _error(code: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": code, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="gateway"'
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return (unquote(client_id), unquote(secret)) if sep else None
    client_id = request.POST.get("client_id", "")
    secret = request.POST.get("client_secret", "")
    return (client_id, secret) if client_id and secret else None


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """Issue a bearer token for the scopes asked (default: all the app's subscriptions open)."""
    grant_type = request.POST.get("grant_type")
    if grant_type not in ("client_credentials", device_identity.TOKEN_EXCHANGE_GRANT):
        return _error(
            "unsupported_grant_type", "Only client_credentials and token-exchange are supported."
        )
    pair = _client_credentials(request)
    if pair is None:
        return _error("invalid_client", "Client authentication failed.", 401)
    client_id, secret = pair
    now = timezone.now()
    context = context_for_client(client_id)
    if context is not None:
        # Scopes of a subscription made a moment ago in another process count at once.
        context = context_current(context)
    credential = context.credential(client_id, now) if context else None
    if (
        context is None
        or credential is None
        or not signing.signature_matches(credential.secret, secret)
    ):
        return _error("invalid_client", "Client authentication failed.", 401)
    if not context.ip_allowed(client_ip(request)):
        return _error("unauthorized_client", "Requests from this address are not allowed.")
    allowed = context.scopes(now)
    asked = request.POST.get("scope", "").split()
    if asked:
        unknown = [s for s in asked if s not in SCOPE_TO_CAPABILITY or s not in allowed]
        if unknown:
            return _error("invalid_scope", f"Scopes not allowed for this app: {' '.join(unknown)}")
        granted = asked
    else:
        granted = allowed
    if not granted:
        return _error("invalid_scope", "The app has no current subscription.")
    device_number: str | None = None
    if grant_type == device_identity.TOKEN_EXCHANGE_GRANT:
        if request.POST.get("subject_token_type") != device_identity.DEVICE_TOKEN_TYPE:
            return _error("invalid_request", "subject_token_type must be the device-token type.")
        try:
            device_number = network.device_token_phone_number(
                device_token=request.POST.get("subject_token", "")
            )
        except CarrierUnavailable:
            return _error("temporarily_unavailable", "Try again later.", 503)
        if device_number is None:
            return _error("invalid_grant", "The device token is unknown or expired.")
    try:
        if not rate_hit(
            key=f"gw:token:{client_id}", limit=TOKEN_REQUESTS_PER_MINUTE, window_seconds=60
        ).allowed:
            return _error(
                "slow_down", "Too many token requests; reuse tokens until they expire.", 429
            )
        value, ttl = tokens.token_store(
            app_id=context.app_id,
            credential_id=credential.id,
            client_id=client_id,
            scopes=granted,
        )
        if device_number is not None:
            device_identity.device_bind(token=value, phone_number=device_number, ttl_seconds=ttl)
    except redis.RedisError:
        return _error("temporarily_unavailable", "Try again later.", 503)
    body: dict[str, Any] = {
        "access_token": value,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(granted),
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
