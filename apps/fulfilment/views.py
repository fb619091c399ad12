"""Pages of fulfilment: redeeming a card (check, then confirm) and a buyer's cards and PINs."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.carrier.errors import CarrierUnavailable
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.fulfilment import cards


class RedeemForm(forms.Form):
    card_number = forms.CharField(label=gettext_lazy("Card number"), max_length=24)
    pin = forms.CharField(
        label=gettext_lazy("PIN"), max_length=24, widget=forms.PasswordInput(render_value=True)
    )
    msisdn = forms.CharField(
        label=gettext_lazy("Mobile number to credit (recharge and data cards)"), max_length=32,
        required=False, help_text=gettext_lazy("Point cards go to your own points account."),
    )  # fmt: skip


class ConfirmForm(forms.Form):
    confirm_token = forms.CharField(max_length=400, widget=forms.HiddenInput)


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    """Step one checks the card and shows what it is worth; step two (``confirm_token``) uses it."""
    if request.method == "POST" and "confirm_token" in request.POST:
        return _confirm(request)
    initial = {"msisdn": getattr(request.user, "phone", "")}
    form = RedeemForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            quote = cards.card_quote(
                number=form.cleaned_data["card_number"], pin=form.cleaned_data["pin"],
                msisdn=form.cleaned_data["msisdn"], user_id=_uid(request), client_ip=client_ip(request),
            )  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.http_status
        else:
            confirm = ConfirmForm(initial={"confirm_token": quote.confirm_token})
            return render(
                request, "fulfilment/redeem_confirm.html", {"quote": quote, "form": confirm}
            )
    elif request.method == "POST":
        status = 400
    return render(request, "fulfilment/redeem.html", {"form": form}, status=status)


def _confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("This confirmation has expired or is not yours. Enter the card again.")
        )
        return redirect("fulfilment:redeem")
    try:
        done = cards.card_redeem_confirmed(
            confirm_token=form.cleaned_data["confirm_token"], user_id=_uid(request)
        )
    except CarrierUnavailable:
        messages.error(
            request,
            _(
                "The carrier is not answering. Enter the same card again in a moment; it will not be used twice."
            ),
        )
        return redirect("fulfilment:redeem")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("fulfilment:redeem")
    if done.msisdn:
        text = _("%(what)s was added to %(number)s.") % {
            "what": done.description,
            "number": done.msisdn,
        }
    else:
        text = _("%(what)s were added to your account.") % {"what": done.description}
    messages.success(request, text)
    return redirect("fulfilment:redeem")


@login_required
@require_POST
def pin_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """Show the PIN of a card the user bought (audited); htmx swaps it in, else a small page."""
    try:
        pin = cards.card_pin_reveal(number=number, user_id=_uid(request))
    except cards.CardNotFound as exc:
        raise Http404 from exc
    context = {"number": number, "pin": pin}
    if getattr(request, "htmx", False):
        response = render(request, "fulfilment/_pin.html", context)
    else:
        response = render(request, "fulfilment/pin.html", context)
    response["Cache-Control"] = "no-store"
    return response


def order_cards_section(request: HttpRequest, order_number: str) -> str:
    """The buyer's cards of an order, PINs masked, for the order page ("" when there are none)."""
    sold = cards.cards_for_order(order_number=order_number, user_id=_uid(request))
    if not sold:
        return ""
    return render_to_string("fulfilment/_order_cards.html", {"cards": sold}, request=request)


def order_delivery_section(request: HttpRequest, order_number: str) -> str:
    """What happened to each line of the buyer's order: its delivery state, when, to which
    number, and the parcel or hand-off (for the order page; "" before the order is paid)."""
    from apps.fulfilment.selectors import deliveries_for_order

    rows = deliveries_for_order(order_number=order_number, user_id=_uid(request))
    if not rows:
        return ""
    return render_to_string(
        "fulfilment/_order_delivery.html", {"deliveries": rows}, request=request
    )
