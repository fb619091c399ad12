"""The CP console at ``/cp/``: a CP user (SMS sign-in, role ``content_provider``) applies, sees
its review, proposes products, their price points and prices, manages its API keys and reads its delivery log."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.content import selectors, services
from apps.content.models import ContentProduct, ContentProvider
from apps.core.errors import DomainError
from apps.risk import selectors as risk_selectors


class ApplyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("company"), max_length=128)
    licence_number = forms.CharField(label=gettext_lazy("licence number"), max_length=64)
    bank_account = forms.CharField(label=gettext_lazy("bank account for payouts"), max_length=64)
    contact_name = forms.CharField(label=gettext_lazy("contact"), max_length=64)
    contact_phone = forms.CharField(label=gettext_lazy("contact phone"), max_length=20)
    document = forms.FileField(label=gettext_lazy("qualification document"), required=False)


class ProductForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=ContentProduct.Kind.choices)
    title = forms.CharField(label=gettext_lazy("title"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("description"), widget=forms.Textarea, required=False
    )
    price_fen = forms.IntegerField(label=gettext_lazy("price (fen)"))
    billing_mode = forms.ChoiceField(
        label=gettext_lazy("billing mode"), choices=ContentProduct.BillingMode.choices
    )
    trial_days = forms.IntegerField(label=gettext_lazy("free trial (days)"), min_value=0, initial=0)
    billing_code = forms.CharField(label=gettext_lazy("carrier billing code"), max_length=32)
    cover = forms.ImageField(label=gettext_lazy("cover"), required=False)
    notify_url = forms.URLField(
        label=gettext_lazy("notification URL"), required=False, assume_scheme="https"
    )


class PriceForm(forms.Form):
    price_fen = forms.IntegerField(label=gettext_lazy("new price (fen)"))


class PricePointForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("label"), max_length=32,
                            help_text=gettext_lazy("e.g. 单章, 全本, 包月"))  # fmt: skip
    price_fen = forms.IntegerField(label=gettext_lazy("price (fen)"))
    billing_code = forms.CharField(label=gettext_lazy("carrier billing code"), max_length=32)


def cp_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in and a member of a CP (else to the console's home, which offers to apply)."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cp = selectors.cp_of_user(user_id=cast(int, request.user.pk))
        if cp is None:
            return redirect("content:cp-home")
        return view(request, cp, *args, **kwargs)

    return wrapped


def cp_party_of(request: HttpRequest) -> int | None:
    """The CP whose settlement statements the signed-in user reads in the console (mounted
    from ``config/urls.py`` with settlement's pages): its CP once approved, also while
    suspended (it is still owed its share); None for anyone else."""
    if not request.user.is_authenticated:
        return None
    cp = selectors.cp_of_user(user_id=_uid(request))
    visible = (ContentProvider.Status.APPROVED, ContentProvider.Status.SUSPENDED)
    return cp.pk if cp is not None and cp.status in visible else None


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    cp = selectors.cp_of_user(user_id=_uid(request))
    if cp is None:
        form = ApplyForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "document"}
            try:
                cp = services.cp_register(user_id=_uid(request), **data)
            except IntegrityError:
                form.add_error("licence_number", _("This licence number is already registered."))
            else:
                upload = form.cleaned_data.get("document")
                if upload:
                    services.cp_document_add(cp_id=cp.pk, title=upload.name, name=upload.name,
                                             content=upload.read(), actor_id=_uid(request))  # fmt: skip
                return redirect("content:cp-home")
        return render(request, "content/cp_apply.html", {"form": form})
    return render(request, "content/cp_home.html", {
        "cp": cp, "products": cp.products.prefetch_related("price_points"), "keys": cp.keys.exclude(slot="retired"),
        "notifications": selectors.notifications_of(cp_id=cp.pk), "approved": cp.status == ContentProvider.Status.APPROVED,
        "warnings": risk_selectors.cp_warnings(cp_id=str(cp.pk)),
        "warning_limit": settings.RISK_CP_WARNINGS_BEFORE_SUSPENSION,
    })  # fmt: skip


@cp_required
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest, cp: ContentProvider) -> HttpResponse:
    form = ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("cover", None)
        cover = (upload.name, upload.read()) if upload else None
        try:
            services.product_create(cp_id=cp.pk, actor_id=_uid(request), cover=cover, **data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sent for review."))
            return redirect("content:cp-home")
    return render(request, "content/cp_form.html", {"form": form, "title": _("New product")})


@cp_required
@require_http_methods(["GET", "POST"])
def price_point_new(request: HttpRequest, cp: ContentProvider, product_id: int) -> HttpResponse:
    """The CP adds a price point to a product; it is sold once an operator approves it."""
    form = PricePointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_point_add(cp_id=cp.pk, product_id=product_id, actor_id=_uid(request),
                                     **form.cleaned_data)  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sent for review."))
            return redirect("content:cp-home")
    return render(request, "content/cp_form.html", {"form": form, "title": _("New price point")})


@cp_required
@require_POST
def price_point_active(
    request: HttpRequest, cp: ContentProvider, price_point_id: int
) -> HttpResponse:
    """The CP takes a price point off sale or puts it back on sale."""
    try:
        services.price_point_set_active(cp_id=cp.pk, price_point_id=price_point_id,
                                        active=request.POST.get("active") == "1", actor_id=_uid(request))  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("content:cp-home")


@cp_required
@require_http_methods(["GET", "POST"])
def price_change(request: HttpRequest, cp: ContentProvider, product_id: int) -> HttpResponse:
    """A new price for one of the product's price points (``?point=<id>``; the default one
    otherwise), sent for review."""
    point = request.GET.get("point", "")
    form = PriceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_change_propose(cp_id=cp.pk, product_id=product_id, actor_id=_uid(request),
                                          price_fen=form.cleaned_data["price_fen"],
                                          price_point_id=int(point) if point.isdigit() else None)  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sent for review."))
            return redirect("content:cp-home")
    return render(request, "content/cp_form.html", {"form": form, "title": _("Change the price")})


@cp_required
@require_POST
def key_new(request: HttpRequest, cp: ContentProvider) -> HttpResponse:
    issued = services.cp_key_issue(cp_id=cp.pk, actor_id=_uid(request))
    return render(request, "content/cp_key.html", {"issued": issued})


@cp_required
@require_POST
def key_rotate(request: HttpRequest, cp: ContentProvider) -> HttpResponse:
    try:
        services.cp_key_rotate(cp_id=cp.pk, actor_id=_uid(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("content:cp-home")
