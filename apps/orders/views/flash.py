"""Flash-sale pages: /flash/<id>/ (the sale and its 抢购 button) and /flash/<id>/claim/ (the
winner waits there while a worker places the order, then goes on to the cashier)."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.catalog.errors import SkuNotFound
from apps.catalog.selectors import sku_for_sale
from apps.core.errors import DomainError
from apps.marketing import services as marketing
from apps.marketing.errors import FlashSaleNotFound
from apps.orders import services


def _sale_context(sale_id: int) -> dict[str, object]:
    try:
        sale, left = marketing.flash_sale_page(sale_id=sale_id)
    except FlashSaleNotFound as exc:
        raise Http404 from exc
    try:
        sku = sku_for_sale(sku_id=sale.sku_id)
    except SkuNotFound:  # the product was taken off the shelf during the sale
        sku = None
    return {"sale": sale, "left": left, "sku": sku}


@require_http_methods(["GET", "POST"])
def flash_sale(request: HttpRequest, sale_id: int) -> HttpResponse:
    context = _sale_context(sale_id)
    if context["sku"] is None:  # nothing to sell: a buyer's claim page still answers
        raise Http404
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            services.flash_buy(
                user_id=int(request.user.pk), sale_id=sale_id,
                recipient=request.POST.get("recipient", "").strip(),
            )  # fmt: skip
        except DomainError as exc:
            context["error"], status = exc.message, exc.http_status
        else:
            return redirect("orders:flash-claim", sale_id=sale_id)
    return render(request, "orders/flash_sale.html", context, status=status)


@login_required
@require_GET
def flash_claim(request: HttpRequest, sale_id: int) -> HttpResponse:
    """Polled by htmx while the order is being placed; once it exists the buyer goes on to the
    cashier (``HX-Redirect`` for the poll, a redirect for a plain visit)."""
    held = services.flash_purchase_of(sale_id=sale_id, user_id=cast(int, request.user.pk))
    if held is None:
        raise Http404
    if held.status in ("ordered", "paid"):
        step = "orders:pay" if held.status == "ordered" else "orders:detail"
        target = reverse(step, args=[held.order_number])
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    template = (
        "orders/_flash_claim.html" if getattr(request, "htmx", False) else "orders/flash_claim.html"
    )
    return render(request, template, {"claim": held, **_sale_context(sale_id)})
