"""The line pages (``/my/line/``): balance, bills, data, plan, add-ons and the user's requests."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.carrier.errors import CarrierRejected, CarrierUnavailable
from apps.core.errors import DomainError, NotFound
from apps.mobile import selectors, services
from apps.mobile.errors import NotOwnLine
from apps.mobile.models import LineRequest

# URL word -> request kind.
KINDS = {"plan": LineRequest.Kind.PLAN_CHANGE, "addon": LineRequest.Kind.ADDON}


def _user_id(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


def line_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in only; a line the carrier cannot show gets a page that says why."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotOwnLine as exc:
            message, status = exc.message, exc.http_status
        except CarrierUnavailable:
            message, status = _("The carrier is not answering. Try again in a moment."), 503
        except CarrierRejected as exc:
            message, status = exc.message, 502
        context = {"message": message}
        return render(request, "mobile/unavailable.html", context, status=status)

    return wrapper


@require_GET
@line_page
def overview(request: HttpRequest) -> HttpResponse:
    summary = selectors.line_summary(user_id=_user_id(request))
    recent = selectors.line_requests(user_id=_user_id(request), limit=3)
    return render(request, "mobile/overview.html", {"line": summary, "recent": recent})


@require_GET
@line_page
def usage(request: HttpRequest) -> HttpResponse:
    data = selectors.line_usage(user_id=_user_id(request))
    return render(request, "mobile/usage.html", {"usage": data})


@require_GET
@line_page
def bills(request: HttpRequest) -> HttpResponse:
    months = selectors.bill_months()
    month = request.GET.get("month") or months[0]
    context: dict[str, Any] = {"months": months, "month": month}
    status = 200
    try:
        context["bill"] = selectors.line_bill(user_id=_user_id(request), month=month)
    except NotFound as exc:
        context["error"], status = exc.message, exc.http_status
    return render(request, "mobile/bills.html", context, status=status)


@require_GET
@line_page
def offers(request: HttpRequest) -> HttpResponse:
    available = selectors.line_offers(user_id=_user_id(request))
    return render(request, "mobile/offers.html", {"offers": available})


class ConfirmForm(forms.Form):
    # A fresh token per confirmation page: submitting it twice records one request.
    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@line_page
def confirm(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    user_id = _user_id(request)
    form = ConfirmForm(request.POST or None, initial={"request_key": secrets.token_urlsafe(24)})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            made = services.line_request_submit(
                user_id=user_id, kind=KINDS[kind], offer_code=code,
                request_key=form.cleaned_data["request_key"],
            )  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.http_status
        else:
            return redirect("line:request", request_id=made.id)
    elif request.method == "POST":
        status = 400
    try:
        choice = selectors.line_offer_choice(user_id=user_id, kind=KINDS[kind], offer_code=code)
    except (NotOwnLine, CarrierUnavailable, CarrierRejected):
        raise
    except DomainError as exc:
        # Shown whether or not a submit was refused first: this offer is not for this line.
        context: dict[str, Any] = {"message": exc.message}
        return render(request, "mobile/unavailable.html", context, status=exc.http_status)
    context = {"choice": choice, "form": form, "kind": kind}
    return render(request, "mobile/confirm.html", context, status=status)


@require_GET
@login_required
def requests(request: HttpRequest) -> HttpResponse:
    rows = selectors.line_requests(user_id=_user_id(request))
    return render(request, "mobile/requests.html", {"requests": rows})


@require_GET
@login_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    try:
        made = selectors.line_request_get(user_id=_user_id(request), request_id=request_id)
    except NotFound:
        raise Http404 from None
    return render(request, "mobile/request.html", {"made": made})
