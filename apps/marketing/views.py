"""Marketing pages: a campaign's page (claim a coupon) and the buyer's coupons (type a code)."""

from __future__ import annotations

import io
from collections.abc import Callable

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError
from apps.marketing import selectors, services


@require_GET
def campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    page = selectors.campaign_page(campaign_id=campaign_id)
    if page is None:
        raise Http404
    return render(request, "marketing/campaign.html", {"campaign": page})


@login_required
@require_POST
def claim(request: HttpRequest, campaign_id: int, batch_id: int) -> HttpResponse:
    if not 0 < batch_id < 2**63:
        raise Http404
    try:
        code = services.coupon_claim(user_id=int(request.user.pk or 0), batch_id=batch_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Coupon %(code)s is yours.") % {"code": code})
    return redirect("marketing:campaign", campaign_id=campaign_id)


@login_required
@require_http_methods(["GET", "POST"])
def my_coupons(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)
    error, status = "", 200
    if request.method == "POST":
        try:
            code = services.coupon_redeem(user_id=user_id, code=request.POST.get("code", ""))
        except DomainError as exc:
            error, status = exc.message, exc.http_status
        else:
            messages.success(request, _("Coupon %(code)s is yours.") % {"code": code})
            return redirect("marketing:my-coupons")
    coupons = selectors.coupons_for(user_id=user_id, usable_only=False)
    return render(
        request, "marketing/my_coupons.html", {"coupons": coupons, "error": error}, status=status
    )


@login_required
@require_GET
def channel_console(request: HttpRequest) -> HttpResponse:
    """The channel's console: its sales and commissions (the channel this user owns)."""
    from apps.marketing.channels import channel_sales
    from apps.marketing.models import Channel

    mine = Channel.objects.filter(owner_user_id=request.user.pk)
    channel = (
        mine.filter(status__in=[Channel.Status.ACTIVE, Channel.Status.SUSPENDED])
        .prefetch_related("codes")
        .first()
    )
    if channel is None:
        if mine.exists():  # an application under review (or refused): its page says so
            return redirect("channel-apply")
        raise Http404
    links = [
        (c.code, c.label, _link(request, c.code), _qr(_link(request, c.code)).svg_inline(scale=3))
        for c in channel.codes.all()
    ]
    context = {"channel": channel, "sales": channel_sales(channel_id=channel.pk), "links": links}
    return render(request, "marketing/channel_console.html", context)


def _link(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(f"/?ch={code}")


def _qr(text: str) -> segno.QRCode:
    return segno.make(text, error="m")


@login_required
@require_GET
def channel_qr(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """One of the channel's codes as a QR image to print (``svg`` or ``png``): the owner's
    codes only (anyone else's, or an unknown code, is a 404)."""
    from apps.marketing.models import ChannelCode

    row = ChannelCode.objects.filter(code=code, channel__owner_user_id=request.user.pk).first()
    if row is None or fmt not in ("svg", "png"):
        raise Http404
    out = io.BytesIO()
    _qr(_link(request, row.code)).save(out, kind=fmt, scale=10, border=4)
    response = HttpResponse(
        out.getvalue(), content_type="image/svg+xml" if fmt == "svg" else "image/png"
    )
    response["Content-Disposition"] = f'attachment; filename="channel-{row.code}.{fmt}"'
    return response


PartnerOf = Callable[[HttpRequest], "int | None"]


def channel_apply_view(*, partner_of: PartnerOf) -> Callable[[HttpRequest], HttpResponse]:
    """``/channel/apply/``: a developer-portal company applies to sell as a channel, and sees
    its application's status. ``partner_of(request)`` is the signed-in user's approved
    company id (None: none yet); mounted from ``config/urls.py``, as marketing sits below the
    developer portal and cannot read it."""
    from apps.marketing.channels import channel_apply
    from apps.marketing.models import Channel

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        user_id = int(request.user.pk or 0)
        partner_id = partner_of(request)
        error, status = "", 200
        if request.method == "POST":
            try:
                channel_apply(
                    user_id=user_id, partner_id=partner_id, name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                    description=request.POST.get("description", ""),
                )  # fmt: skip
            except DomainError as exc:
                error, status = exc.message, exc.http_status
            else:
                messages.success(request, _("Thank you: we will review your application."))
                return redirect("channel-apply")
        context = {
            "partner_id": partner_id,
            "channels": Channel.objects.filter(owner_user_id=user_id).order_by("-pk")[:5],
            "kinds": Channel.Kind.choices,
            "error": error,
        }
        return render(request, "marketing/channel_apply.html", context, status=status)

    return view
