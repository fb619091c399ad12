"""WeChat Pay's side towards the merchant and the buyer: signed, encrypted payment notifications
(retried by the scheduler as WeChat Pay does) and the cashier and JSAPI bridge pages.

The API itself, its keys and signatures are in ``wechat``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import secrets
import string
import uuid
from datetime import datetime

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.sandbox import faults
from apps.sandbox.models import PayNotification, PayTrade
from apps.sandbox.payments import common
from apps.sandbox.payments.cashier import cashier_context, cashier_pay
from apps.sandbox.payments.wechat import (
    _STATE_DESC,
    WECHAT,
    _apiv3_key,
    _http_url,
    _merchant_signed,
    _rfc3339,
    transaction_json,
    wechatpay_headers,
)
from apps.sandbox.scheduler import call_later

logger = logging.getLogger(__name__)

_POST_TIMEOUT_S = 3.0
# Waits before the 2nd … 6th (last) delivery attempt. WeChat Pay spreads its retries over a
# day (15 s, 15 s, 30 s, 3 min …); the sandbox keeps the shape and shrinks the scale.
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# Between two notifications of one trade, so that they arrive in the order they were made.
_SEQUENCE_GAP_S = 0.1


# --- notifications -----------------------------------------------------------------------------


def _event_body(
    trade: PayTrade, *, trade_state: str, amount_delta: int = 0, created: datetime | None = None
) -> str:
    """One notification's exact body: the transaction encrypted with the APIv3 key."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    plaintext = json.dumps(
        transaction_json(trade, trade_state=trade_state, amount_delta=amount_delta),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    ciphertext = AESGCM(_apiv3_key()).encrypt(nonce.encode(), plaintext.encode(), b"transaction")
    event = {
        "id": str(uuid.uuid4()),
        "create_time": _rfc3339(created or timezone.now()),
        "resource_type": "encrypt-resource",
        "event_type": f"TRANSACTION.{trade_state}",
        "summary": _STATE_DESC[trade_state],
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": "transaction",
            "nonce": nonce,
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _bodies(trade: PayTrade, mode: str) -> list[str]:
    """What a paid trade sends under ``mode``, in order (``lost``: made, never sent)."""
    if mode == common.NotifyMode.WRONG_AMOUNT:
        return [_event_body(trade, trade_state="SUCCESS", amount_delta=1)]
    success = _event_body(trade, trade_state="SUCCESS")
    if mode == common.NotifyMode.DUPLICATE:
        # The same event (same id, same ciphertext) three times, as a retrying provider would.
        return [success] * 3
    if mode == common.NotifyMode.OUT_OF_ORDER:
        # A "user paying" event written when the trade opened, arriving after the success.
        return [success, _event_body(trade, trade_state="USERPAYING", created=trade.created_at)]
    return [success]


def notifications_schedule(*, trade: PayTrade) -> None:
    """Record the trade's notifications and send them after ``knobs.pay_notify_delay_ms``.

    Call once per paid trade (``common.trade_pay`` says when).
    """
    mode = common.notify_mode_for(trade)
    rows = [
        PayNotification.objects.create(trade=trade, url=trade.notify_url, body=body, mode=mode)
        for body in _bodies(trade, mode)
    ]
    if mode == common.NotifyMode.LOST:
        logger.info("wechat notification for %s lost on purpose", trade)
        return
    delay_s = faults.knobs_get().pay_notify_delay_ms / 1000
    pks = tuple(row.pk for row in rows)
    call_later(
        delay_s, functools.partial(_deliver, notification_pk=pks[0], attempt=1, rest=pks[1:])
    )


def _deliver_next(rest: tuple[int, ...]) -> None:
    """The next planned notification, a short gap after the previous one was settled: the
    rows go out in their planned order (an explicit sequence, not one timer per row)."""
    if rest:
        job = functools.partial(_deliver, notification_pk=rest[0], attempt=1, rest=rest[1:])
        call_later(_SEQUENCE_GAP_S, job)


def _deliver(*, notification_pk: int, attempt: int, rest: tuple[int, ...] = ()) -> None:
    """One delivery attempt, freshly signed; anything but a 2xx schedules the next after backoff.
    ``rest`` waits until this notification was answered 2xx or given up on."""
    notification = PayNotification.objects.get(pk=notification_pk)
    headers = {"Content-Type": "application/json", **wechatpay_headers(notification.body)}
    # Recorded before it is sent: whoever sees the merchant act on it can read what was sent.
    PayNotification.objects.filter(pk=notification_pk).update(headers=headers)
    status: int | None = None
    try:
        answer = httpx.post(
            notification.url,
            content=notification.body.encode(),
            headers=headers,
            timeout=_POST_TIMEOUT_S,
        )
        status, outcome = answer.status_code, answer.text[:1000]
    except httpx.HTTPError as exc:
        outcome = repr(exc)
    PayNotification.objects.filter(pk=notification_pk).update(
        attempts=attempt, response_status=status, response_body=outcome
    )
    if status is not None and 200 <= status < 300:
        _deliver_next(rest)
        return
    if attempt > len(_BACKOFF_S):
        logger.warning(
            "wechat notification %s abandoned after %d attempts", notification_pk, attempt
        )
        _deliver_next(rest)
        return
    call_later(
        _BACKOFF_S[attempt - 1],
        functools.partial(
            _deliver, notification_pk=notification_pk, attempt=attempt + 1, rest=rest
        ),
    )


# --- pages for people --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def cashier(request: HttpRequest, trade_no: str) -> HttpResponse:
    """Where the buyer "scans" (native), lands (H5) or confirms (JSAPI), and pays or cancels.

    Cancelling leaves the trade unpaid, as leaving WeChat's cashier does; H5 buyers go back to
    the merchant's ``redirect_url`` either way.
    """
    trade = PayTrade.objects.filter(provider=WECHAT, trade_no=trade_no).first()
    if trade is None:
        raise Http404("no such trade")
    source = request.POST if request.method == "POST" else request.GET
    redirect_url = source.get("redirect_url", "")
    redirect_url = redirect_url if _http_url(redirect_url) else ""
    context = cashier_context(trade=trade, merchant_label=f"商户号 {trade.merchant_id}")
    context.update(redirect_url=redirect_url, error="")
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "pay":
        try:
            trade = cashier_pay(
                request, trade, notify=lambda paid: notifications_schedule(trade=paid)
            )
        except common.PayRefusal as exc:
            context.update(trade=PayTrade.objects.get(pk=trade.pk), error=exc.message)
            return render(request, "sandbox/pay_wechat_cashier.html", context, status=400)
    if action in ("pay", "cancel"):
        if redirect_url:
            return HttpResponseRedirect(redirect_url)
        context.update(trade=trade, paid=trade.status == PayTrade.Status.SUCCEEDED)
        return render(request, "sandbox/pay_wechat_result.html", context)
    return render(request, "sandbox/pay_wechat_cashier.html", context)


@require_GET
def jsapi_bridge(request: HttpRequest) -> HttpResponse:
    """What ``WeixinJSBridge`` does with the invoke parameters: check paySign, open the cashier.

    In WeChat a page passes them to ``getBrandWCPayRequest``; here a link carries them as
    query parameters, and the merchant's RSA signature over
    ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` is checked as WeChat's client does.
    """
    names = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
    params = {name: request.GET.get(name, "") for name in names}
    message = "".join(f"{params[name]}\n" for name in names[:4])
    trade = None
    if (
        params["appId"] == settings.WECHAT_APP_ID
        and params["signType"] == "RSA"
        and _merchant_signed(message, params["paySign"])
    ):
        prepay_id = params["package"].removeprefix("prepay_id=")
        trade = PayTrade.objects.filter(
            provider=WECHAT, channel="jsapi", extra__prepay_id=prepay_id
        ).first()
    if trade is None:
        context = {"error": "支付参数签名错误或预支付交易不存在，无法调起支付。"}
        return render(request, "sandbox/pay_wechat_result.html", context, status=400)
    return HttpResponseRedirect(reverse("wechat-cashier", args=[trade.trade_no]))
