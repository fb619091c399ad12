"""A tiny demo CP app at ``/cp-app/``: its "server" signs in-app purchase calls to the platform's
content API with the demo CP's key and receives the platform's signed notifications.

It stands in for a game's backend: the page lists the CP's products (signed GET), buys one for
a phone number (signed POST: the carrier texts the subscriber a code), confirms with the code
(signed POST), and shows the notifications received, each applied once by its event id. The
demo key is published (``apps/demo/content_seed.py`` issues the same one); the platform's
address is ``SANDBOX_PLATFORM_URL`` (default ``http://127.0.0.1:8000``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

import httpx
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.sandbox.models import CpAppEvent

KEY_ID = os.environ.get("SANDBOX_CP_KEY_ID", "cpdemo_app")
SECRET = os.environ.get("SANDBOX_CP_SECRET", "carrierhub-demo-cp-secret-0123456789")


def _platform() -> str:
    return os.environ.get("SANDBOX_PLATFORM_URL", "http://127.0.0.1:8000").rstrip("/")


def _call(
    method: str, target: str, payload: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """One signed call (the gateway's CH-HMAC-SHA256 scheme, written out here as a CP would)."""
    body = json.dumps(payload).encode() if payload is not None else b""
    date, nonce = str(int(time.time())), secrets.token_hex(12)
    text = "\n".join(
        ("CH-HMAC-SHA256", date, nonce, method, target, hashlib.sha256(body).hexdigest())
    )
    signature = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    headers = {"Authorization": f"CH-HMAC-SHA256 Credential={KEY_ID}, Signature={signature}",
               "X-CH-Date": date, "X-CH-Nonce": nonce, "Content-Type": "application/json"}  # fmt: skip
    try:
        answer = httpx.request(
            method, _platform() + target, content=body, headers=headers, timeout=15
        )
    except httpx.HTTPError as exc:
        return 503, {"code": "PLATFORM_UNREACHABLE", "message": str(exc)}
    return answer.status_code, answer.json()


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"events": CpAppEvent.objects.order_by("-received_at")[:20]}
    status, listing = _call("GET", "/api/v1/content/products/")
    context["products"] = listing.get("products", []) if status == 200 else []
    if status != 200:
        context["error"] = listing
    if request.method == "POST" and request.POST.get("step") == "buy":
        status, charge = _call("POST", "/api/v1/content/charges/", {
            "product_id": int(request.POST.get("product_id") or 0), "phone_number": request.POST.get("phone", ""),
            "cp_order_id": f"app-{secrets.token_hex(6)}", **({"chapter": 2} if request.POST.get("chapter") else {}),
        })  # fmt: skip
        context["charge" if status == 201 else "error"] = charge
    elif request.method == "POST" and request.POST.get("step") == "confirm":
        charge_id = request.POST.get("charge_id", "")
        status, charge = _call(
            "POST",
            f"/api/v1/content/charges/{charge_id}/confirm/",
            {"code": request.POST.get("code", "")},
        )
        context["charge" if status == 200 else "error"] = charge
        if status != 200:
            context["charge"] = {"charge_id": charge_id, "status": "pending"}
    return render(request, "sandbox/cp_app.html", context)


@csrf_exempt
@require_POST
def notify(request: HttpRequest) -> HttpResponse:
    """The platform's notification: checked against the key, applied once per event id."""
    timestamp = request.headers.get("X-CH-Timestamp", "")
    expected = hmac.new(
        SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-CH-Signature", "")):
        return HttpResponse("bad signature", status=401)
    body = json.loads(request.body)
    try:
        with transaction.atomic():
            CpAppEvent.objects.create(
                event_id=str(body["event_id"]), event=str(body["event"]), body=body
            )
    except IntegrityError:  # a repeat: acknowledged, not applied again
        CpAppEvent.objects.filter(event_id=str(body["event_id"])).update(
            deliveries=F("deliveries") + 1
        )
    return HttpResponse("ok")


urlpatterns = [path("", home, name="cp-app"), path("notify", notify, name="cp-app-notify")]
