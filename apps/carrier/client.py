"""HTTP adapter to the carrier network: timeouts, bounded retries and idempotency keys.

Every POST carries an ``Idempotency-Key``, so retrying after a timeout or a lost response
never applies an operation twice: the carrier answers a repeat with the first result.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from apps.carrier.breaker import province_gate
from apps.carrier.errors import (
    CarrierRejected,
    CarrierUnavailable,
    ProvinceUnavailable,
    SubscriberNotFound,
)
from apps.carrier.provinces import province_of

logger = logging.getLogger(__name__)
# Failures that happen before a request leaves this process or reaches the carrier.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class SmsAccepted:
    message_id: str
    segments: int


@dataclass(frozen=True)
class SmsState:
    message_id: str
    status: str
    segments: int
    reference: str


@dataclass(frozen=True)
class SubscriberInfo:
    msisdn: str
    operator: str
    is_own_network: bool
    status: str
    province: str | None
    city: str | None
    balance_fen: int | None
    real_name_verified: bool | None


class CarrierClient:
    """One per process and configuration; thread-safe (httpx pools connections)."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float, max_attempts: int):
        self.max_attempts = max(1, max_attempts)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        tries = attempts or self.max_attempts
        last_error = ""
        maybe_applied = False  # whether a try may have reached the carrier (CarrierUnavailable)
        for attempt in range(tries):
            if attempt:
                # Exponential backoff with jitter: 0.1 s, 0.2 s, 0.4 s ... capped at 2 s.
                time.sleep(min(2.0, 0.1 * 2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311
            try:
                response = self._http.request(method, path, json=json, headers=headers)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                maybe_applied = maybe_applied or not isinstance(exc, NOT_SENT)
                logger.warning(
                    "carrier %s %s failed (%s), attempt %d", method, path, last_error, attempt + 1
                )
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                # 503: the carrier turned the request away before handling it.
                maybe_applied = maybe_applied or response.status_code != 503
                continue
            body = _json(response)
            if response.status_code >= 400:
                code = str(body.get("code", ""))
                message = str(body.get("message", "")) or f"HTTP {response.status_code}"
                if code == "SUBSCRIBER_NOT_FOUND":
                    raise SubscriberNotFound()
                raise CarrierRejected(message, carrier_code=code, http_status=response.status_code)
            return body
        raise CarrierUnavailable(
            details={"last_error": last_error, "attempts": tries}, maybe_applied=maybe_applied
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        """One JSON request with bounded retries and the carrier's errors mapped: for topic
        modules (plans, SIM cards, network capabilities) that keep their request shapes
        beside their services instead of growing this class."""
        return self._request(
            method, path, json=json, idempotency_key=idempotency_key, attempts=attempts
        )

    def send_sms(
        self, *, to: str, text: str, idempotency_key: str, reference: str, callback_url: str
    ) -> SmsAccepted:
        request: dict[str, Any] = {"to": to, "text": text, "reference": reference}
        if callback_url:
            request["callback_url"] = callback_url
        body = self._request(
            "POST", "/carrier/v1/sms", json=request, idempotency_key=idempotency_key
        )
        return SmsAccepted(message_id=str(body["message_id"]), segments=int(body["segments"]))

    def sms_by_key(self, *, idempotency_key: str) -> SmsState | None:
        """Ask whether a request under this key was applied (after a lost response)."""
        try:
            body = self._request("GET", f"/carrier/v1/sms/by-key/{quote(idempotency_key)}")
        except CarrierRejected as exc:
            if exc.carrier_http_status == 404:
                return None
            raise
        return SmsState(
            message_id=str(body["message_id"]),
            status=str(body["status"]),
            segments=int(body["segments"]),
            reference=str(body.get("reference") or ""),
        )

    def lookup_subscriber(self, *, msisdn: str) -> SubscriberInfo:
        body = self._request("GET", f"/carrier/v1/subscribers/{quote(msisdn)}")
        return SubscriberInfo(
            msisdn=str(body["msisdn"]),
            operator=str(body["operator"]),
            is_own_network=bool(body["is_own_network"]),
            status=str(body["status"]),
            province=body.get("province"),
            city=body.get("city"),
            balance_fen=body.get("balance_fen"),
            real_name_verified=body.get("real_name_verified"),
        )

    # --- BOSS: provincial, each behind its breaker ------------------------------------------

    def boss_call(
        self,
        method: str,
        tail: str,
        *,
        msisdn: str,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        """One request to the BOSS of ``msisdn``'s home province
        (``/carrier/v1/provinces/<code>/<tail>``) through that province's breaker and in-flight
        cap; raises ``ProvinceUnavailable`` without sending when the province is isolated. A
        number outside our segments goes to the national path, where the carrier refuses it."""
        province = province_of(msisdn)
        if province is None:
            return self._request(method, f"/carrier/v1/{tail}", json=json,
                                 idempotency_key=idempotency_key, attempts=attempts)  # fmt: skip
        with province_gate(province.code):
            return self._request(method, f"/carrier/v1/provinces/{province.code}/{tail}",
                                 json=json, idempotency_key=idempotency_key, attempts=attempts)  # fmt: skip

    def boss_apply_once(
        self, *, operation: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """POST ``operation`` ("recharges", "data-packs", "plan-changes", "addons") for
        ``body["msisdn"]`` to its provincial BOSS, exactly once: one try; on a timeout or lost
        answer the BOSS is asked whether the key was applied before anything is sent again.
        Raises ``CarrierUnavailable`` while the outcome is unknown (retry later, same key)."""
        msisdn = str(body["msisdn"])
        try:
            return self.boss_call("POST", operation, msisdn=msisdn, json=body,
                                  idempotency_key=idempotency_key, attempts=1)  # fmt: skip
        except ProvinceUnavailable:
            raise  # not sent: nothing to ask about
        except CarrierUnavailable as sent:
            try:
                applied = self.boss_by_key(msisdn=msisdn, idempotency_key=idempotency_key)
            except CarrierUnavailable as asking:
                raise sent from asking  # the outcome of what was sent is still unknown
            if applied is not None:
                return applied
            try:
                return self.boss_call("POST", operation, msisdn=msisdn, json=body,
                                      idempotency_key=idempotency_key, attempts=1)  # fmt: skip
            except CarrierUnavailable as again:
                # The first request may still land after the answer "not applied".
                again.maybe_applied = again.maybe_applied or sent.maybe_applied
                raise

    def boss_by_key(self, *, msisdn: str, idempotency_key: str) -> dict[str, Any] | None:
        """What the BOSS applied under this key (after a timeout or a lost answer), or ``None``."""
        try:
            return self.boss_call(
                "GET", f"provisioning/by-key/{quote(idempotency_key)}", msisdn=msisdn
            )
        except CarrierRejected as exc:
            if exc.carrier_http_status == 404:
                return None
            raise

    # --- Carrier billing (CAMARA-style) -----------------------------------------------------

    def billing_prepare(
        self,
        *,
        msisdn: str,
        amount_fen: int,
        description: str,
        reference: str,
        idempotency_key: str,
        recurring: bool = False,
    ) -> BillingState:
        body = self._request(
            "POST",
            "/carrier/v1/payments",
            json={"msisdn": msisdn, "amount_fen": amount_fen, "description": description[:200],
                  "merchant_reference": reference, **({"recurring": True} if recurring else {})},
            idempotency_key=idempotency_key,
        )  # fmt: skip
        return _billing(body)

    def billing_action(
        self, *, payment_id: str, action: str, body: dict[str, Any] | None = None
    ) -> BillingState:
        """``validate`` (body: code), ``confirm``, ``cancel`` or ``refund`` (amount, reference).

        Each is idempotent at the carrier, so the adapter's retries are safe.
        """
        return _billing(
            self._request(
                "POST", f"/carrier/v1/payments/{quote(payment_id)}/{action}", json=body or {}
            )
        )

    def billing_get(self, *, payment_id: str) -> BillingState:
        return _billing(self._request("GET", f"/carrier/v1/payments/{quote(payment_id)}"))

    def billing_statement(self, *, day: str, merchant_id: str) -> bytes:
        """The carrier's daily file of phone-bill charges and refunds (a record file, not
        JSON), with the same bounded retries as every call; ``CarrierUnavailable`` when it
        cannot be had now, ``CarrierRejected`` when the carrier refuses the request."""
        path = f"/carrier/v1/billing-statements/{quote(day)}"
        last_error = ""
        for attempt in range(self.max_attempts):
            if attempt:
                time.sleep(min(2.0, 0.1 * 2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311
            try:
                response = self._http.get(
                    path, params={"merchant_id": merchant_id}, headers={"Accept": "text/plain"}
                )
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                body = _json(response)
                raise CarrierRejected(
                    str(body.get("message", "")) or f"HTTP {response.status_code}",
                    carrier_code=str(body.get("code", "")),
                    http_status=response.status_code,
                )
            return response.content
        raise CarrierUnavailable(details={"last_error": last_error, "attempts": self.max_attempts})

    def ping(self) -> None:
        """One quick try, no retries: used by /healthz."""
        self._request("GET", "/health", attempts=1)


@dataclass(frozen=True)
class Provisioned:
    request_id: str
    kind: str
    msisdn: str
    amount_fen: int
    volume_mb: int


def provisioned_of(body: dict[str, Any]) -> Provisioned:
    return Provisioned(
        request_id=str(body["request_id"]), kind=str(body["kind"]), msisdn=str(body["msisdn"]),
        amount_fen=int(body.get("amount_fen", 0)), volume_mb=int(body.get("volume_mb", 0)),
    )  # fmt: skip


@dataclass(frozen=True)
class BillingState:
    payment_id: str
    status: str  # prepared | validated | succeeded | cancelled
    amount_fen: int
    refunded_fen: int


def _billing(body: dict[str, Any]) -> BillingState:
    return BillingState(
        payment_id=str(body["payment_id"]),
        status=str(body["status"]),
        amount_fen=int(body["amount_fen"]),
        refunded_fen=int(body.get("refunded_fen", 0)),
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@functools.cache
def _client_for(base_url: str, api_key: str, timeout: float, max_attempts: int) -> CarrierClient:
    return CarrierClient(
        base_url=base_url, api_key=api_key, timeout=timeout, max_attempts=max_attempts
    )


def get_carrier_client() -> CarrierClient:
    """The adapter for the current settings (tests point it at their own sandbox)."""
    return _client_for(
        settings.CARRIER_BASE_URL,
        settings.CARRIER_API_KEY,
        settings.CARRIER_TIMEOUT_SECONDS,
        settings.CARRIER_MAX_ATTEMPTS,
    )
