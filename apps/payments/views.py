"""Payment endpoints: provider notifications, and the page that takes the buyer to the provider."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError
from apps.core.http import safe_next_url
from apps.core.middleware import accepts_nul_bytes
from apps.payments import selectors, services
from apps.payments.errors import PaymentNotFound
from apps.payments.handlers import purpose_handler


@accepts_nul_bytes
@csrf_exempt
@require_POST
def notify(request: HttpRequest, method: str) -> HttpResponse:
    """Asynchronous notifications: verified with the provider's SDK, applied once, answered as it expects.

    A NUL byte cannot be stored; it is written as the visible ``\\u0000``, which also breaks
    the signature, so the notification is refused, recorded and answered in the provider's
    FAIL format like any other forgery.
    """
    try:
        ack = services.notification_receive(
            method=method,
            body=request.body.replace(b"\x00", b"\\u0000"),
            headers={name: value.replace("\x00", "") for name, value in request.headers.items()},
            form={
                name: str(value).replace("\x00", "\\u0000") for name, value in request.POST.items()
            },
        )
    except PaymentNotFound as exc:
        raise Http404 from exc
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


@require_POST
def carrier_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    """The buyer types the code the carrier texted them; the phone bill is charged."""
    if not request.user.is_authenticated:
        raise Http404
    try:
        services.carrier_billing_confirm(
            public_id=public_id,
            user_id=cast(int, request.user.pk),
            code=request.POST.get("code", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("payments:go", args=[public_id]) + "?" + request.GET.urlencode())
    return redirect(safe_next_url(request, request.GET.get("back")))


@require_GET
def go(request: HttpRequest, public_id: str) -> HttpResponse:
    """Show or follow the provider's next step: a redirect, an auto-posted form or a QR code."""
    try:
        intent = selectors.intent_get(public_id=public_id)
    except PaymentNotFound as exc:
        raise Http404 from exc
    if intent.user_id is not None and intent.user_id != request.user.pk:
        raise Http404
    action = intent.action
    kind = action.get("kind")
    describe = purpose_handler(intent.purpose).describe
    context = {
        "intent": intent,
        "action": action,
        "title": describe(intent.reference) if describe else intent.reference,
        "back": safe_next_url(request, request.GET.get("back")),
    }
    if kind == "redirect" and intent.status == "pending":
        return redirect(action["url"])
    if kind == "qr":
        context["qr_svg"] = segno.make(action["qr_text"], error="m").svg_inline(scale=6)
    if kind == "jsapi" and settings.WECHAT_API_BASE.startswith(settings.PAYMENTS_SANDBOX_URL):
        # Outside WeChat the sandbox's bridge stands in for WeixinJSBridge.
        context["jsapi_bridge_url"] = (
            f"{settings.WECHAT_API_BASE}/jsapi-bridge?{urlencode(action['jsapi_params'])}"
        )
    return render(request, "payments/go.html", context)


@require_GET
def state(request: HttpRequest, public_id: str) -> HttpResponse:
    """Polled by the QR page (htmx): while the payment waits, a note; once it has an outcome,
    HX-Redirect sends the buyer on to ``back`` (the owner's result page)."""
    try:
        intent = selectors.intent_get(public_id=public_id)
    except PaymentNotFound as exc:
        raise Http404 from exc
    if intent.user_id is not None and intent.user_id != request.user.pk:
        raise Http404
    if intent.status in ("created", "pending"):
        return render(request, "payments/_waiting.html", {"intent": intent})
    back = request.GET.get("back", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "/"
    response = HttpResponse(status=204)
    response["HX-Redirect"] = back
    return response
