"""Address book pages under /my/addresses/: list, add, edit, default, delete, and the
province → city → district lists (htmx fragments)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import divisions, selectors, services
from apps.accounts.validators import display_phone
from apps.core.errors import DomainError


class AddressForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Recipient"), max_length=30)
    phone = forms.CharField(label=gettext_lazy("Contact number"), max_length=20)
    province = forms.CharField(label=gettext_lazy("Province"), max_length=20)
    city = forms.CharField(label=gettext_lazy("City"), max_length=20)
    district = forms.CharField(label=gettext_lazy("District"), max_length=20, required=False)
    detail = forms.CharField(label=gettext_lazy("Street address"), max_length=120)
    make_default = forms.BooleanField(label=gettext_lazy("Use as default"), required=False)

    def to_input(self) -> services.AddressInput:
        d = self.cleaned_data
        return services.AddressInput(
            d["name"], d["phone"], d["province"], d["city"], d.get("district", ""), d["detail"]
        )


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


def _form_context(form: AddressForm) -> dict[str, Any]:
    province = form["province"].value() or ""
    city = form["city"].value() or ""
    return {
        "form": form,
        "provinces": divisions.provinces(),
        "cities": divisions.cities(province),
        "districts": divisions.districts(province, city),
        "province": province,
        "city": city,
        "district": form["district"].value() or "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def address_list(request: HttpRequest) -> HttpResponse:
    """The address book, with a form to add one (the phone prefilled with the user's)."""
    own = display_phone(request.user.phone).replace(" ", "")  # type: ignore[union-attr]
    form = AddressForm(request.POST or None, initial={"phone": own})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.address_create(
                    user_id=_uid(request), data=form.to_input(),
                    make_default=form.cleaned_data["make_default"],
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("Address saved."))
                return redirect("my-addresses:list")
        else:
            status = 400
    context = {"addresses": selectors.addresses_for(user_id=_uid(request)), **_form_context(form)}
    return render(request, "accounts/addresses.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    address = selectors.address_get(user_id=_uid(request), address_id=address_id)
    if address is None:
        raise Http404
    initial = {
        k: getattr(address, k) for k in ("name", "phone", "province", "city", "district", "detail")
    }
    form = AddressForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.address_update(
                    user_id=_uid(request), address_id=address_id, data=form.to_input()
                )
                if form.cleaned_data["make_default"]:
                    services.address_set_default(user_id=_uid(request), address_id=address_id)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("Address saved."))
                return redirect("my-addresses:list")
        else:
            status = 400
    context = {"address": address, **_form_context(form)}
    return render(request, "accounts/address_edit.html", context, status=status)


@login_required
@require_POST
def address_default(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        services.address_set_default(user_id=_uid(request), address_id=address_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("my-addresses:list")


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        services.address_delete(user_id=_uid(request), address_id=address_id)
        messages.success(request, _("Address deleted."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("my-addresses:list")


@require_GET
def division_options(request: HttpRequest) -> HttpResponse:
    """The city select for a province, or the district select for a city (htmx)."""
    province, city = request.GET.get("province", ""), request.GET.get("city", "")
    level = request.GET.get("level", "city")
    city = city if level == "district" else ""
    context = {
        "provinces": divisions.provinces(),
        "province": province,
        "cities": divisions.cities(province),
        "city": city,
        "districts": divisions.districts(province, city),
        "district": "",
    }
    return render(request, "accounts/_division_selects.html", context)
