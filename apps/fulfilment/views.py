"""Pages of fulfilment: redeeming a recharge card."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.carrier.errors import CarrierUnavailable
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.core.money import format_fen
from apps.fulfilment.cards import card_redeem


class RedeemForm(forms.Form):
    card_number = forms.CharField(label=gettext_lazy("Card number"), max_length=24)
    pin = forms.CharField(
        label=gettext_lazy("PIN"), max_length=24, widget=forms.PasswordInput(render_value=True)
    )
    msisdn = forms.CharField(label=gettext_lazy("Mobile number to recharge"), max_length=32)


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    form = RedeemForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            done = card_redeem(
                number=form.cleaned_data["card_number"], pin=form.cleaned_data["pin"],
                msisdn=form.cleaned_data["msisdn"], user_id=cast(int, request.user.pk), client_ip=client_ip(request),
            )  # fmt: skip
        except CarrierUnavailable:
            form.add_error(
                None,
                _(
                    "The carrier is not answering. Submit the same card again in a moment; it will not be charged twice."
                ),
            )
            status = 503
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.http_status
        else:
            messages.success(
                request,
                _("%(amount)s was added to %(number)s.")
                % {"amount": format_fen(done.amount_fen), "number": done.msisdn},
            )
            return redirect("fulfilment:redeem")
    elif request.method == "POST":
        status = 400
    return render(request, "fulfilment/redeem.html", {"form": form}, status=status)
