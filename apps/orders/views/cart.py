"""Cart pages: view, add, change quantity, remove. Refusals come back as messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError, IdempotencyConflict
from apps.orders import selectors, services
from apps.orders.errors import CartLineNotFound

MAX_KEY_LENGTH = 128


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return -1


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    # Priced as the checkout prices it: for the channel whose link brought the buyer.
    view = selectors.cart_view(
        owner=selectors.cart_owner(request), channel_code=request.COOKIES.get("ch", "")
    )
    return render(request, "orders/cart.html", {"cart": view})


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    owner = selectors.cart_owner(request, create=True)
    assert owner is not None
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("orders:cart")
    # The product page's script fills a fresh key per page view (the page is cached for
    # anonymous visitors, so the server cannot render one per visitor); a page without it
    # (no script, rendered before keys) adds each time it is sent.
    key = request.POST.get("idempotency_key", "")
    try:
        added = services.cart_add_once(
            owner=owner,
            sku_id=_int(request.POST.get("sku"), 0),
            quantity=_int(request.POST.get("quantity"), 1),
            recipient=request.POST.get("recipient", ""),
            sim_number=request.POST.get("sim_number", ""),
            key=key if len(key) <= MAX_KEY_LENGTH else "",
        )
    except IdempotencyConflict:
        # The same form sent again with another choice (back, then changed): not added;
        # a fresh page brings a fresh key.
        messages.error(
            request, _("This form was already used to add to your cart: please choose again.")
        )
        return redirect(back)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if added.replayed:
        # Sent again (a retry, or back and the same choice): in the cart once, not twice.
        messages.info(request, _("Already in your cart: this form was sent before."))
    else:
        messages.success(request, _("Added to your cart."))
    return redirect("orders:cart")


@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    owner = selectors.cart_owner(request)
    try:
        if owner is None:
            raise CartLineNotFound()
        if request.POST.get("action") == "remove":
            services.cart_line_remove(owner=owner, line_id=line_id)
        else:
            services.cart_line_set_quantity(
                owner=owner, line_id=line_id, quantity=_int(request.POST.get("quantity"), 1)
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:cart")
