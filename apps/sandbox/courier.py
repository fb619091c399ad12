"""The couriers (SF, ZTO, EMS ...): a merchant registers a tracking number, the courier pushes
signed status updates to the merchant's webhook over time.

Knobs (``CourierKnobs``) set the pace and the trouble: duplicate pushes, an update that arrives
after a newer one, a delivery problem that recovers or sends the parcel back. Updates are
signed ``hex(HMAC-SHA256(courier secret, "<timestamp>." + body))`` in ``X-Courier-Signature``
with ``X-Courier-Timestamp``, and retried with backoff until the merchant answers 2xx.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.jsonapi import json_endpoint, json_response, read_json_object, require_api_key
from apps.sandbox.models import CourierKnobs, CourierParcel, CourierPush
from apps.sandbox.scheduler import call_later

logger = logging.getLogger(__name__)

COURIERS = ("sf", "zto", "yto", "sto", "yunda", "ems", "jd")
_TRACKING = re.compile(r"^[A-Z0-9-]{6,40}$")
_POST_TIMEOUT_S = 3.0
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# (status, where, what the courier says) for each step of a parcel's journey.
_COLLECTED = ("collected", "深圳", "快递员已揽收")
_IN_TRANSIT = ("in_transit", "广州转运中心", "快件已到达转运中心")
_OUT = ("out_for_delivery", "收件城市", "快递员正在派送")
_DELIVERED = ("delivered", "收件地址", "已签收，感谢使用")
_EXCEPTION = ("exception", "收件城市", "收件人电话无人接听，派送暂缓")
_RETURNED = ("returned", "深圳", "已退回寄件人")


def knobs_get() -> CourierKnobs:
    knobs, _ = CourierKnobs.objects.get_or_create(pk=1)
    return knobs


def knobs_as_dict(knobs: CourierKnobs) -> dict[str, Any]:
    return {
        "step_ms": knobs.step_ms,
        "duplicate": knobs.duplicate,
        "out_of_order": knobs.out_of_order,
        "exception": knobs.exception,
    }


def knobs_update(*, changes: dict[str, Any]) -> CourierKnobs:
    """Change some knobs; an unknown name or a bad value is ``INVALID_ARGUMENT``."""
    knobs = knobs_get()
    for name, value in changes.items():
        if name == "step_ms":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 600_000:
                raise invalid_argument("step_ms must be an integer from 0 to 600000.")
        elif name in ("duplicate", "out_of_order"):
            if not isinstance(value, bool):
                raise invalid_argument(f"{name} must be true or false.")
        elif name == "exception":
            if value not in CourierKnobs.Trouble.values:
                raise invalid_argument("exception must be none, recover or return.")
        else:
            raise invalid_argument(f"Unknown knob: {name}.")
        setattr(knobs, name, value)
    knobs.save()
    return knobs


def _journey(knobs: CourierKnobs) -> list[tuple[str, str, str]]:
    if knobs.exception == CourierKnobs.Trouble.RECOVER:
        return [_COLLECTED, _IN_TRANSIT, _EXCEPTION, _OUT, _DELIVERED]
    if knobs.exception == CourierKnobs.Trouble.RETURN:
        return [_COLLECTED, _IN_TRANSIT, _EXCEPTION, _RETURNED]
    return [_COLLECTED, _IN_TRANSIT, _OUT, _DELIVERED]


def parcel_register(*, courier: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Register a parcel and plan its pushes; a repeat for the same number changes nothing.

    Returns ``(201, body)`` the first time and ``(200, body)`` after; the same number with
    another callback is ``IDEMPOTENCY_CONFLICT``.
    """
    if courier not in COURIERS:
        raise not_found(f"No courier {courier}.", code="UNKNOWN_COURIER")
    tracking = str(payload.get("tracking_number") or "").upper()
    if not _TRACKING.match(tracking):
        raise invalid_argument("tracking_number must be 6..40 letters, digits or dashes.")
    callback_url = str(payload.get("callback_url") or "")
    parts = urlsplit(callback_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(callback_url) > 500:
        raise invalid_argument("callback_url must be an absolute http(s) URL.")
    reference = str(payload.get("reference") or "")[:128]
    existing = CourierParcel.objects.filter(courier=courier, tracking_number=tracking).first()
    if existing is None:
        knobs = knobs_get()
        try:
            with transaction.atomic():
                parcel = CourierParcel.objects.create(
                    courier=courier, tracking_number=tracking, callback_url=callback_url,
                    reference=reference, subscription_id="TS" + secrets.token_hex(10),
                )  # fmt: skip
                pushes = _plan(parcel, knobs)
        except IntegrityError:
            existing = CourierParcel.objects.get(courier=courier, tracking_number=tracking)
        else:
            transaction.on_commit(lambda: _schedule(pushes, knobs))
            return 201, _parcel_body(parcel)
    if existing.callback_url != callback_url:
        raise SandboxError(409, "IDEMPOTENCY_CONFLICT", "This parcel is registered elsewhere.")
    return 200, _parcel_body(existing)


def _plan(parcel: CourierParcel, knobs: CourierKnobs) -> list[int]:
    """The parcel's updates, each ``step_ms`` after the one before (by when they happen)."""
    step = timedelta(milliseconds=max(knobs.step_ms, 1))
    pks = []
    for n, (status, location, description) in enumerate(_journey(knobs), start=1):
        push = CourierPush.objects.create(
            parcel=parcel, event_id=f"{parcel.subscription_id}-{n}", status=status,
            occurred_at=parcel.created_at + step * n, location=location, description=description,
        )  # fmt: skip
        pks.append(push.pk)
    return pks


def _schedule(pushes: list[int], knobs: CourierKnobs) -> None:
    """Send the updates one after another, ``step_ms`` apart; out of order, the second update
    is sent after the third (each one waits for the answer to the one before)."""
    order = list(pushes)
    if knobs.out_of_order and len(order) >= 3:
        order[1], order[2] = order[2], order[1]
    step_s = max(knobs.step_ms, 1) / 1000
    call_later(
        step_s,
        functools.partial(_chain, order=order, step_s=step_s, copies=2 if knobs.duplicate else 1),
    )


def _chain(*, order: list[int], step_s: float, copies: int) -> None:
    for _ in range(copies):
        _push(push_pk=order[0], attempt=1)
    if len(order) > 1:
        call_later(step_s, functools.partial(_chain, order=order[1:], step_s=step_s, copies=copies))


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def push_body(push: CourierPush) -> bytes:
    update = {
        "event_id": push.event_id,
        "tracking_number": push.parcel.tracking_number,
        "status": push.status,
        "occurred_at": timezone.localtime(push.occurred_at).isoformat(),
        "location": push.location,
        "description": push.description,
    }
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


def _push(*, push_pk: int, attempt: int) -> None:
    """One attempt to deliver one update; a failure schedules the next after its backoff."""
    push = CourierPush.objects.select_related("parcel").get(pk=push_pk)
    parcel = push.parcel
    body = push_body(push)
    timestamp = int(time.time())
    secret = str(getattr(settings, "COURIER_SECRETS", {}).get(parcel.courier, ""))
    headers = {
        "Content-Type": "application/json",
        "X-Courier-Timestamp": str(timestamp),
        "X-Courier-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }
    try:
        answer = httpx.post(
            parcel.callback_url, content=body, headers=headers, timeout=_POST_TIMEOUT_S
        )
        outcome, ok = f"HTTP {answer.status_code}", answer.is_success
    except httpx.HTTPError as exc:
        outcome, ok = repr(exc)[:100], False
    CourierPush.objects.filter(pk=push_pk).update(
        attempts=push.attempts + 1, outcome=outcome, acknowledged=push.acknowledged or ok
    )
    if ok:
        return
    if attempt > len(_BACKOFF_S):
        logger.warning(
            "courier update %s abandoned after %d attempts: %s", push.event_id, attempt, outcome
        )
        return
    call_later(
        _BACKOFF_S[attempt - 1], functools.partial(_push, push_pk=push_pk, attempt=attempt + 1)
    )


def _parcel_body(parcel: CourierParcel) -> dict[str, Any]:
    return {
        "subscription_id": parcel.subscription_id,
        "courier": parcel.courier,
        "tracking_number": parcel.tracking_number,
        "reference": parcel.reference or None,
        "pushes": [
            {"event_id": p.event_id, "status": p.status, "occurred_at": p.occurred_at.isoformat(),
             "attempts": p.attempts, "outcome": p.outcome, "acknowledged": p.acknowledged}
            for p in CourierPush.objects.filter(parcel=parcel)
        ],
    }  # fmt: skip


# --- HTTP -------------------------------------------------------------------------------------


@json_endpoint("POST")
def subscriptions(request: HttpRequest, courier: str) -> HttpResponse:
    require_api_key(request)
    status, body = parcel_register(courier=courier, payload=read_json_object(request))
    return json_response(body, status=status)


@json_endpoint("GET")
def parcel_detail(request: HttpRequest, courier: str, tracking_number: str) -> HttpResponse:
    require_api_key(request)
    parcel = CourierParcel.objects.filter(
        courier=courier, tracking_number=tracking_number.upper()
    ).first()
    if parcel is None:
        raise not_found(f"No parcel {tracking_number}.")
    return json_response(_parcel_body(parcel))


@json_endpoint("GET", "PUT")
def knobs(request: HttpRequest) -> HttpResponse:
    if request.method == "PUT":
        require_api_key(request)
        return json_response(knobs_as_dict(knobs_update(changes=read_json_object(request))))
    return json_response(knobs_as_dict(knobs_get()))


@json_endpoint("POST")
def knobs_reset(request: HttpRequest) -> HttpResponse:
    require_api_key(request)
    CourierKnobs.objects.filter(pk=1).delete()
    return json_response(knobs_as_dict(knobs_get()))


class CourierKnobsForm(forms.ModelForm):
    class Meta:
        model = CourierKnobs
        fields = ["step_ms", "duplicate", "out_of_order", "exception"]


@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    """The couriers' knobs and the latest parcels with what was pushed, for a person."""
    form = CourierKnobsForm(request.POST or None, instance=knobs_get())
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(f"{request.path}?saved=1")
    parcels = CourierParcel.objects.prefetch_related("pushes").order_by("-id")[:20]
    context = {"form": form, "parcels": parcels, "saved": "saved" in request.GET}
    return render(request, "sandbox/courier.html", context, status=400 if form.errors else 200)


urlpatterns = [
    path("", page, name="courier-page"),
    path("v1/<str:courier>/subscriptions", subscriptions, name="courier-subscriptions"),
    path("v1/<str:courier>/parcels/<str:tracking_number>", parcel_detail, name="courier-parcel"),
    path("knobs", knobs, name="courier-knobs"),
    path("knobs/reset", knobs_reset, name="courier-knobs-reset"),
]
