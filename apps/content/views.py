"""Subscriber pages: what I own (``/my/content/``), the reader, signed media links, and the
hosted pay page a CP links to (``/pay/content/<charge>/``)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.content import selectors, services
from apps.content.models import Charge, ContentProduct
from apps.content.services import subscriptions, trials
from apps.core.errors import DomainError
from apps.core.money import format_fen

# A media link lives this long (seconds); it names the product and the subscriber.
MEDIA_LINK_SECONDS = 600
_MEDIA_SALT = "content.media"
PAY_METHODS = (
    ("carrier_billing", ""),
    ("alipay", "wap"),
    ("wechat", "h5"),
    ("unionpay", "mobile"),
    ("points", ""),
)


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


def order_content_section(request: HttpRequest, order_number: str) -> str:
    """The buyer's order page (a section orders lets higher layers add): what the order's
    digital lines gave the buyer to read, watch or play, with a link to each; "" for none."""
    from apps.orders.selectors import order_get

    if not request.user.is_authenticated:
        return ""
    order = order_get(number=order_number, user_id=_uid(request))
    if order is None:
        return ""
    digital = [line.id for line in order.lines if line.kind == "digital"]
    owned = selectors.owned_from_lines(user_id=_uid(request), line_ids=digital) if digital else []
    if not owned:
        return ""
    return render_to_string("content/_order_content.html", {"owned": owned}, request=request)


@login_required
@require_GET
def my_content(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "content/my_content.html",
        {"owned": selectors.owned_content(user_id=_uid(request))},
    )


def media_link(*, product_id: int, user_id: int) -> str:
    """A signed link to the product's stream that expires after ``MEDIA_LINK_SECONDS``."""
    token = signing.dumps({"p": product_id, "u": user_id}, salt=_MEDIA_SALT, compress=True)
    return reverse("content:media", args=[token])


@login_required
@require_GET
def item(request: HttpRequest, product_id: int) -> HttpResponse:
    product = ContentProduct.objects.filter(pk=product_id).first()
    if product is None:
        raise Http404
    uid = _uid(request)
    whole = selectors.entitled(user_id=uid, product_id=product_id)
    chapters = [
        (
            c,
            c.free
            or whole
            or selectors.entitled(user_id=uid, product_id=product_id, chapter=c.number),
        )
        for c in product.chapters.all()
    ]
    link = (
        media_link(product_id=product_id, user_id=uid)
        if whole and product.kind != "reading"
        else ""
    )
    sub = selectors.subscription_of(user_id=uid, product_id=product_id)
    plans = (
        selectors.plans_to_change_to(subscription=sub)
        if sub is not None and sub.status in ("active", "trialing")
        else []
    )
    context = {"product": product, "whole": whole, "chapters": chapters, "link": link, "subscription": sub,
               "plans": plans, "complaint": selectors.complaint_of(user_id=uid, product_id=product_id)}  # fmt: skip
    return render(request, "content/item.html", context)


@login_required
@require_POST
def subscription_cancel(request: HttpRequest, product_id: int) -> HttpResponse:
    """The subscriber cancels: no more renewals, access to the end of the paid period."""
    sub = selectors.subscription_of(user_id=_uid(request), product_id=product_id)
    if sub is None:
        raise Http404
    subscriptions.subscription_cancel(subscription_id=sub.pk, user_id=_uid(request))
    messages.success(request, _("Cancelled: you keep access to the end of the paid period."))
    return redirect("content:item", product_id)


@login_required
@require_POST
def plan_change(request: HttpRequest, product_id: int) -> HttpResponse:
    """The subscriber moves the subscription to another monthly product of the CP (proration
    rules in docs/content.md): a dearer one now, the difference for the days left charged to
    the phone bill; a cheaper one from the next period."""
    sub = selectors.subscription_of(user_id=_uid(request), product_id=product_id)
    if sub is None or sub.user_id != _uid(request):
        raise Http404
    try:
        target = int(request.POST.get("product_id", ""))
        charged = subscriptions.subscription_change_plan(subscription_id=sub.pk, product_id=target)
    except ValueError:
        messages.error(request, _("Choose a plan."))
        return redirect("content:item", product_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("content:item", product_id)
    sub.refresh_from_db()
    if charged:
        messages.success(request, _("Plan changed: %(amount)s charged to your phone bill for the rest of this period.")
                         % {"amount": format_fen(charged)})  # fmt: skip
    elif sub.next_product_id == target:
        messages.success(request, _("Your plan changes from your next period."))
    else:
        messages.success(request, _("Plan changed."))
    return redirect("content:item", sub.product_id)


@login_required
@require_POST
def complain(request: HttpRequest, product_id: int) -> HttpResponse:
    """ "I did not order this": the subscriber's complaint about their charge for the product
    goes to risk control (the CP's complaint rate)."""
    try:
        services.charge_complain(user_id=_uid(request), product_id=product_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you: your complaint was recorded for review."))
    return redirect("content:item", product_id)


@login_required
@require_POST
def trial_start(request: HttpRequest, product_id: int) -> HttpResponse:
    """A signed-in subscriber (the SMS sign-in proves the number) starts a free trial."""
    phone = str(getattr(request.user, "phone", ""))
    try:
        trials.subscription_start_trial(user_id=_uid(request), msisdn=phone, product_id=product_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("content:item", product_id)


@login_required
@require_GET
def chapter(request: HttpRequest, product_id: int, number: int) -> HttpResponse:
    """A chapter's text, only to an entitled subscriber (the free preview to anyone)."""
    found = selectors.chapter_get(product_id=product_id, number=number)
    if found is None:
        raise Http404
    if not found.free and not selectors.entitled(
        user_id=_uid(request), product_id=product_id, chapter=number
    ):
        return render(request, "content/not_entitled.html", {"product_id": product_id}, status=403)
    return render(request, "content/chapter.html", {"chapter": found})


@require_GET
def media(request: HttpRequest, token: str) -> HttpResponse:
    """The stream behind a signed link: refused when expired, tampered with, or no longer
    entitled (a refund since). The sandbox's stand-in for the CP's CDN."""
    try:
        claim = signing.loads(token, salt=_MEDIA_SALT, max_age=MEDIA_LINK_SECONDS)
    except signing.BadSignature:
        return HttpResponse("link expired or invalid", status=403, content_type="text/plain")
    if not selectors.entitled(user_id=int(claim["u"]), product_id=int(claim["p"])):
        return HttpResponse("not entitled", status=403, content_type="text/plain")
    return HttpResponse(f"stream of product {claim['p']}", content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, charge_id: str) -> HttpResponse:
    """The hosted pay page: the subscriber the charge names picks the price (one of the
    product's price points on sale, until a payment starts) and how to pay; choosing another
    price shows the new amount first. The phone bill asks for the texted code (the second
    confirmation) on the payments page."""
    charge = (
        Charge.objects.select_related("product", "cp")
        .filter(pk=charge_id, user_id=_uid(request))
        .first()
    )
    if charge is None:
        raise Http404
    choosable = charge.status == Charge.Status.PENDING and not charge.intent_public_id
    points = selectors.price_points_on_sale(product_id=charge.product_id) if choosable else []
    if request.method == "POST" and charge.status == Charge.Status.PENDING:
        method = request.POST.get("method", "")
        channel = dict(PAY_METHODS).get(method)
        chosen = request.POST.get("price_point", "")
        if channel is None:
            messages.error(request, _("Choose a way to pay."))
        elif chosen and chosen != str(charge.price_point_id):
            # Another price first; the subscriber sees the new amount before paying. An id is
            # a positive 64-bit number: anything else is refused here, before the database.
            if not (chosen.isascii() and chosen.isdigit() and 0 < int(chosen) < 2**63):
                messages.error(request, _("Choose a price."))
                return redirect(request.path)
            try:
                services.charge_price_point_choose(
                    charge_id=charge.pk, user_id=_uid(request), price_point_id=int(chosen)
                )
            except DomainError as exc:
                messages.error(request, exc.message)
        else:
            try:
                intent = services.charge_pay_start(charge_id=charge.pk, method=method, channel=channel,
                                                   client_ip=request.META.get("REMOTE_ADDR", ""),
                                                   return_url=request.build_absolute_uri())  # fmt: skip
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                if intent.status == "succeeded":
                    return redirect(request.path)
                return redirect(
                    reverse("payments:go", args=[intent.public_id]) + f"?back={request.path}"
                )
        return redirect(request.path)
    context = {"charge": charge, "methods": [m for m, _c in PAY_METHODS], "points": points}
    return render(request, "content/pay.html", context)
