"""The cashier every provider shows the buyer: find the trade, show it, pay once, or cancel.

Alipay and UnionPay differ only in their words, codes, templates and in what the browser gets
after paying; a ``Cashier`` holds those and serves the three pages. WeChat Pay's one-page
cashier uses ``cashier_pay`` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.sandbox.faults import knobs_get
from apps.sandbox.models import PayTrade
from apps.sandbox.payments.common import (
    PayRefusal,
    notify_mode_choices,
    notify_mode_parse,
    trade_close,
    trade_pay,
    yuan,
)


def cashier_context(*, trade: PayTrade, merchant_label: str) -> dict[str, Any]:
    """What every cashier page shows: the trade, its amount and the notification-mode select."""
    return {
        "trade": trade,
        "amount_yuan": yuan(trade.amount_fen),
        "merchant_label": merchant_label,
        "notify_modes": notify_mode_choices(),
        "default_notify_mode": knobs_get().pay_notify_mode,
    }


def error_page(
    request: HttpRequest, *, provider_label: str, code: str, message: str, status: int = 400
) -> HttpResponse:
    """The page a buyer sees when a provider refuses what the merchant sent."""
    context = {"provider_label": provider_label, "code": code, "message": message}
    return render(request, "sandbox/pay_common_error.html", context, status=status)


def result_page(
    request: HttpRequest, *, provider_label: str, title: str, message: str, back_url: str = ""
) -> HttpResponse:
    """A plain outcome page (cancelled, or paid with nowhere to return to)."""
    context = {
        "provider_label": provider_label,
        "title": title,
        "message": message,
        "back_url": back_url,
    }
    return render(request, "sandbox/pay_common_result.html", context)


def cashier_pay(
    request: HttpRequest, trade: PayTrade, *, notify: Callable[[PayTrade], None]
) -> PayTrade:
    """The buyer confirmed: mark the trade paid once (with the notification mode chosen on the
    page, else the knobs'), and ``notify`` the merchant if this was the payment. Raises
    ``PayRefusal`` for a trade that can no longer be paid."""
    mode = notify_mode_parse(request.POST.get("notify_mode"), default=knobs_get().pay_notify_mode)
    trade, newly_paid = trade_pay(trade_pk=trade.pk, notify_mode=mode)
    if newly_paid:
        notify(trade)
    return trade


@dataclass(frozen=True)
class Cashier:
    """One provider's cashier pages, under its URL namespace (``<namespace>:pay`` …)."""

    provider: str
    label: str  # the provider's name on the pages
    namespace: str
    template: str
    merchant_label: str  # e.g. "应用 {merchant_id}"
    not_found: tuple[str, str]  # the provider's code and message for an unknown trade
    closed_code: str  # its code for paying a trade that was closed
    notify: Callable[[PayTrade], None]
    # The browser's way back to the merchant once paid (its return URL is set).
    paid_return: Callable[[HttpRequest, PayTrade], HttpResponse]
    no_return_message: str
    cancel_return: Callable[[PayTrade], str] = lambda trade: trade.return_url

    def trade(self, trade_no: str) -> PayTrade | None:
        return PayTrade.objects.filter(provider=self.provider, trade_no=trade_no).first()

    def _no_trade(self, request: HttpRequest) -> HttpResponse:
        code, message = self.not_found
        return error_page(
            request, provider_label=self.label, code=code, message=message, status=404
        )

    def cashier(self, request: HttpRequest, trade_no: str) -> HttpResponse:
        trade = self.trade(trade_no)
        if trade is None:
            return self._no_trade(request)
        label = self.merchant_label.format(merchant_id=trade.merchant_id)
        context = cashier_context(trade=trade, merchant_label=label)
        context["pay_url"] = reverse(f"{self.namespace}:pay", kwargs={"trade_no": trade_no})
        context["cancel_url"] = reverse(f"{self.namespace}:cancel", kwargs={"trade_no": trade_no})
        return render(request, self.template, context)

    def pay(self, request: HttpRequest, trade_no: str) -> HttpResponse:
        """Mark paid once, notify the merchant, send the browser back to it."""
        trade = self.trade(trade_no)
        if trade is None:
            return self._no_trade(request)
        try:
            trade = cashier_pay(request, trade, notify=self.notify)
        except PayRefusal as exc:
            return error_page(
                request, provider_label=self.label, code=self.closed_code, message=exc.message
            )
        if not trade.return_url:
            return result_page(
                request, provider_label=self.label, title="付款成功", message=self.no_return_message
            )
        return self.paid_return(request, trade)

    def cancel(self, request: HttpRequest, trade_no: str) -> HttpResponse:
        """The buyer gave up: a pending trade closes (the provider answers closed from then on)."""
        trade = self.trade(trade_no)
        if trade is None:
            return self._no_trade(request)
        trade = trade_close(trade_pk=trade.pk)
        if trade.status == PayTrade.Status.SUCCEEDED:
            return result_page(
                request, provider_label=self.label, title="订单已支付", message="无法取消。"
            )
        return result_page(request, provider_label=self.label, title="已取消付款",
                           message="交易已关闭。", back_url=self.cancel_return(trade))  # fmt: skip

    def views(self) -> tuple[Callable[..., HttpResponse], ...]:
        """The cashier, pay and cancel views, for the provider's URLs."""
        return require_GET(self.cashier), require_POST(self.pay), require_POST(self.cancel)
