"""Buying without the cart: the recharge box (/recharge/) and buy now (/buy/)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.carrier.errors import CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import subscriber_lookup
from apps.catalog.selectors import RECHARGE_TABS, recharge_box
from apps.core.errors import DomainError
from apps.core.phone import InvalidPhoneNumber, display_phone, normalize_phone, phone_segment
from apps.orders import selectors
from apps.orders.forms import CheckoutForm, shipping_initial
from apps.orders.services import ShippingAddress
from apps.orders.services.direct import DirectItem, order_buy_now, recharge_place
from apps.payments import services as payments

# The number-segment table's carrier names, as the buyer reads them.
_CARRIERS = {
    "移动": gettext_lazy("China Mobile"),
    "联通": gettext_lazy("China Unicom"),
    "电信": gettext_lazy("China Telecom"),
    "广电": gettext_lazy("China Broadnet"),
}


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return -1


def _next_step(number: str, status: str) -> HttpResponse:
    if status == "paid":
        return redirect("orders:result", number=number)
    return redirect("orders:pay", number=number)


def _personal(request: HttpRequest, number: str = "") -> dict[str, object]:
    """The box's personal part: the number prefilled, numbers used before, a checkout key."""
    recent: list[str] = []
    if request.user.is_authenticated:
        recent = [
            display_phone(n).replace(" ", "")
            for n in selectors.recent_recipients(user_id=int(request.user.pk))
        ]
        own = display_phone(request.user.phone).replace(" ", "")
        number = number or own
        recent = list(dict.fromkeys([own, *recent]))
    return {"number": number, "recent": recent, "checkout_key": secrets.token_urlsafe(18)}


@require_http_methods(["GET", "POST"])
def recharge(request: HttpRequest) -> HttpResponse:
    """The recharge page; its form (also on the home page) posts here and goes to the cashier."""
    box = recharge_box(tab=request.GET.get("tab", ""), selected_sku=_int(request.GET.get("sku")))
    status = 200
    number = request.GET.get("number", "")
    error = ""
    if request.method == "POST":
        tab = request.POST.get("tab", "airtime")
        tab = tab if tab in RECHARGE_TABS else "airtime"
        sku_id = _int(request.POST.get(tab))
        number = request.POST.get("number", "").strip()
        if not request.user.is_authenticated:
            query = urlencode({"tab": tab, "sku": sku_id, "number": number})
            return redirect_to_login(f"{reverse('orders:recharge')}?{query}")
        try:
            order = recharge_place(
                user_id=int(request.user.pk),
                sku_id=sku_id,
                recipient=number,
                checkout_key=request.POST.get("checkout_key") or secrets.token_urlsafe(18),
            )
        except DomainError as exc:
            error, status = str(exc.message), exc.http_status
            box = recharge_box(tab=tab, selected_sku=sku_id)
        else:
            return _next_step(order.number, order.status)
    context = {"box": box, "recharge_error": error, "personal": _personal(request, number)}
    return render(request, "orders/recharge.html", context, status=status)


@require_GET
def recharge_me(request: HttpRequest) -> HttpResponse:
    """The recharge box's personal part (htmx, after a cached page loaded): never cached."""
    response = render(request, "catalog/_recharge_number.html", {"personal": _personal(request)})
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def recharge_number(request: HttpRequest) -> HttpResponse:
    """Carrier and home province of a number as it is typed (htmx): the number segment first,
    then the carrier's own answer (network call; no transaction is open)."""
    raw = request.GET.get("number", "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    context: dict[str, object] = {"ok": False, "message": ""}
    if len(digits) < 11:
        return render(request, "catalog/_number_info.html", context)
    try:
        msisdn = normalize_phone(raw)
    except InvalidPhoneNumber as exc:
        context["message"] = str(exc.message)
        return render(request, "catalog/_number_info.html", context, status=200)
    segment = phone_segment(msisdn)
    if segment is not None:
        context["carrier"] = str(_CARRIERS.get(segment.carrier, segment.carrier))
        context["region"] = f"{segment.province} {segment.city}".strip()
    try:
        info = subscriber_lookup(msisdn=msisdn)
    except SubscriberNotFound:
        context["message"] = _("This number is not a China Mobile number we can find.")
    except CarrierUnavailable:
        context["message"] = _("We cannot check the number right now; try again shortly.")
    else:
        if not info.is_own_network:
            context["message"] = _("Another operator's number: it cannot be recharged here.")
        elif info.status != "active":
            context["message"] = _("This number is suspended or closed.")
        else:
            context["ok"] = True
            if info.province:  # the carrier's record wins over the segment table
                context["region"] = f"{info.province} {info.city or ''}".strip()
    return render(request, "catalog/_number_info.html", context)


@require_http_methods(["GET", "POST"])
def buy_now(request: HttpRequest) -> HttpResponse:
    """Buy now: the checkout of one item from a product page; the cart is left as it is.

    The product page posts the item here (no ``checkout_key`` yet: show the checkout); the
    checkout form posts it back with its key to place the order.
    """
    params = request.POST if request.method == "POST" else request.GET
    item = DirectItem(
        sku_id=_int(params.get("sku")),
        quantity=_int(params.get("quantity"), 1),
        recipient=params.get("recipient", "").strip(),
    )
    if not request.user.is_authenticated:
        query = urlencode(
            {"sku": item.sku_id, "quantity": item.quantity, "recipient": item.recipient}
        )
        return redirect_to_login(f"{reverse('orders:buy-now')}?{query}")
    submitted = request.method == "POST" and "checkout_key" in request.POST
    cart = selectors.direct_item_view(
        sku_id=item.sku_id, quantity=item.quantity, recipient=item.recipient
    )
    needs_shipping = selectors.cart_needs_shipping(cart=cart)
    form = CheckoutForm(
        request.POST if submitted else None,
        initial={"checkout_key": secrets.token_urlsafe(24), "points": 0}
        | (shipping_initial(user_id=int(request.user.pk)) if needs_shipping else {}),
        needs_shipping=needs_shipping,
    )
    status = 200 if cart.lines else 404
    if submitted and cart.lines:
        if form.is_valid():
            data = form.cleaned_data
            shipping = (
                ShippingAddress(
                    data["name"], data["phone"], data["province"], data["city"], data["address"]
                )
                if needs_shipping
                else None
            )
            try:
                order = order_buy_now(
                    user_id=int(request.user.pk),
                    item=item,
                    checkout_key=data["checkout_key"],
                    shipping=shipping,
                    points=data.get("points") or 0,
                )
            except DomainError as exc:
                form.add_error("points" if "POINTS" in exc.code else None, exc.message)
                status = exc.http_status
            else:
                return _next_step(order.number, order.status)
        else:
            status = 400
    context = {
        "cart": cart,
        "form": form,
        "item": item,
        "direct": True,
        "needs_shipping": needs_shipping,
        "needs_real_name": False,
        "points_balance": payments.points_balance(user_id=int(request.user.pk)),
    }
    return render(request, "orders/checkout.html", context, status=status)
