"""Order pages: checkout, choosing how to pay, the result page that waits, the order list and detail."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.selectors import wechat_openid_for_user
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.marketing import selectors as marketing
from apps.orders import selectors, services
from apps.orders.forms import CheckoutForm, PayForm, shipping_initial
from apps.orders.services import ShippingAddress
from apps.payments import services as payments

# Sections that higher layers add to the buyer's order page (fulfilment: each line's delivery,
# the cards bought, the parcels and returns):
# ``render(request, order_number)`` returns safe HTML, or "" for nothing.
_detail_sections: list[Callable[[HttpRequest, str], str]] = []


def order_detail_section_register(render: Callable[[HttpRequest, str], str]) -> None:
    if render not in _detail_sections:
        _detail_sections.append(render)


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk)  # type: ignore[arg-type]


# Which checkout field a refusal belongs to (others are shown above the form).
_ERROR_FIELDS = {
    "INVALID_REAL_NAME": "id_name",
    "INVALID_ID_NUMBER": "id_number",
    "REAL_NAME_MISMATCH": "id_number",
    "ID_NUMBER_LIMIT_REACHED": "id_number",
    "REAL_NAME_REQUIRED": "id_number",
}


def _error_field(code: str) -> str | None:
    if code in _ERROR_FIELDS:
        return _ERROR_FIELDS[code]
    if code.startswith("COUPON"):
        return "coupon"
    return "points" if "POINTS" in code or code == "INVALID_ARGUMENT" else None


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    coupon = (request.POST.get("coupon") or request.GET.get("coupon") or "").strip()
    owner, channel = selectors.cart_owner(request), request.COOKIES.get("ch", "")
    try:  # the breakdown with one of the buyer's coupons; a code typed in is checked on submit
        cart = selectors.cart_view(owner=owner, coupon_code=coupon, channel_code=channel)
    except DomainError:
        cart = selectors.cart_view(owner=owner, channel_code=channel)
    needs_shipping = selectors.cart_needs_shipping(cart=cart)
    needs_real_name = any(line.is_sim for line in cart.lines)
    initial = {"checkout_key": secrets.token_urlsafe(24), "points": 0, "coupon": coupon}
    if needs_shipping:
        initial |= shipping_initial(user_id=_uid(request))
    form = CheckoutForm(
        request.POST or None,
        initial=initial,
        needs_shipping=needs_shipping,
        needs_real_name=needs_real_name,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            shipping = (
                ShippingAddress(
                    data["name"], data["phone"], data["province"], data["city"], data["address"]
                )
                if needs_shipping
                else None
            )
            real_name = (
                services.RealNameInput(name=data["id_name"], id_number=data["id_number"])
                if needs_real_name
                else None
            )
            try:
                order = services.checkout_submit(
                    user_id=_uid(request), checkout_key=data["checkout_key"], shipping=shipping,
                    points=data.get("points") or 0, real_name=real_name, coupon_code=data.get("coupon") or "",
                    channel_code=request.COOKIES.get("ch", ""),
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(_error_field(exc.code), exc.message)
                status = exc.http_status
            else:
                if order.status == "paid":
                    return redirect("orders:result", number=order.number)
                return redirect("orders:pay", number=order.number)
        else:
            status = 400
    context = {
        "cart": cart,
        "form": form,
        "needs_shipping": needs_shipping,
        "needs_real_name": needs_real_name,
        "points_balance": payments.points_balance(user_id=_uid(request)),
        "coupons": marketing.coupons_for(user_id=_uid(request)),
    }
    return render(request, "orders/checkout.html", context, status=status)


def _order_or_404(request: HttpRequest, number: str) -> services.OrderView:
    order = selectors.order_get(number=number, user_id=_uid(request))
    if order is None:
        raise Http404
    return order


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    if order.status != "pending_payment":
        return redirect("orders:detail", number=number)
    form = PayForm(
        request.POST or None, initial={"attempt": secrets.token_hex(8)},
        jsapi=wechat_openid_for_user(user_id=_uid(request)) is not None,
    )  # fmt: skip
    status = 200
    challenged = False  # risk control asked for an SMS code: the page asks for it
    if request.method == "POST" and form.is_valid():
        method, channel = form.cleaned_data["choice"].split(":")
        return_url = request.build_absolute_uri(reverse("orders:result", args=[number]))
        try:
            intent = services.order_pay(
                number=number, user_id=_uid(request), method=method, channel=channel,
                client_ip=client_ip(request) or "", attempt_key=form.cleaned_data["attempt"], return_url=return_url,
                risk_code=form.cleaned_data["risk_code"].strip(), msisdn=getattr(request.user, "phone", ""),
            )  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.http_status
            challenged = exc.code == "RISK_CHALLENGE_REQUIRED" or exc.code.startswith("OTP_")
        else:
            return redirect(
                reverse("payments:go", args=[intent.public_id])
                + f"?back={reverse('orders:result', args=[number])}"
            )
    elif request.method == "POST":
        status = 400
    context = {"order": order, "form": form, "challenged": challenged}
    return render(request, "orders/pay.html", context, status=status)


@csrf_exempt  # UnionPay posts the buyer back with a signed form; nothing is changed here
@login_required
@require_http_methods(["GET", "POST"])
def result(request: HttpRequest, number: str) -> HttpResponse:
    """Where providers send the buyer back; waits (polling) until the payment's outcome is known.

    Only shows state: the payment itself is taken from the signed server-to-server
    notification, never from what the browser brings back.
    """
    if request.method == "POST":
        return redirect("orders:result", number=number)
    order = _order_or_404(request, number)
    template = "orders/_status.html" if getattr(request, "htmx", False) else "orders/result.html"
    return render(request, template, {"order": order})


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    context = {
        "tab": tab,
        "tabs": selectors.order_tabs(user_id=_uid(request)),
        "orders": selectors.orders_in_tab(user_id=_uid(request), tab=tab),
    }
    return render(request, "orders/list.html", context)


# Why a line that was not asked for cannot be refunded as money now (its refund verdict).
_REFUND_NOTES = {
    "delivering": gettext_lazy(
        "It is being delivered right now: ask for a refund once it is delivered or has failed."
    ),
    "return": gettext_lazy(
        "It was delivered: goods are refunded once they come back through a return."
    ),
    "override_needed": gettext_lazy(
        "It was delivered: airtime, data, cards and digital goods are not refunded as money once "
        "delivered. If something is wrong, contact customer service, who can decide on a refund."
    ),
}


def _refund_request_state(number: str, status: str) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the buyer may still ask for a refund (a line refundable as money and not asked
    for yet), and why each other line not asked for is not refundable as money."""
    if status not in ("paid", "completed"):
        return False, []
    lines = [v for v in services.order_refund_lines(number=number) if not v.requested]
    notes = [(v.product_name, str(_REFUND_NOTES[v.verdict])) for v in lines
             if v.verdict in _REFUND_NOTES]  # fmt: skip
    return any(v.refundable for v in lines), notes


@login_required
@require_GET
def detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    refund_open, refund_notes = _refund_request_state(number, order.status)
    context = {"order": order, "timeline": selectors.order_timeline(number=number),
               "paid_with": selectors.order_payment_methods(number=number),
               "address": selectors.shipping_lines(shipping=order.shipping),
               "refunds": selectors.order_refunds(number=number),
               "refund_open": refund_open, "refund_notes": refund_notes,
               "sections": [html for render_section in _detail_sections if (html := render_section(request, number))]}  # fmt: skip
    return render(request, "orders/detail.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    try:
        services.order_cancel(number=number, user_id=_uid(request))
        messages.success(request, _("The order was cancelled."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", number=number)


@login_required
@require_POST
def refund(request: HttpRequest, number: str) -> HttpResponse:
    try:
        services.order_refund_request(
            number=number, user_id=_uid(request), reason=request.POST.get("reason", "")[:200]
        )
        messages.success(request, _("Your refund request was sent; finance will review it."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", number=number)
