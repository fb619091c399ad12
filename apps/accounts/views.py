"""Account pages: sign in with an SMS code, profile with real-name registration, sign out."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import RealNameForm, SignInForm
from apps.accounts.models import Role, User
from apps.accounts.validators import mask_phone
from apps.carrier.errors import CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import line_status_label, operator_label, subscriber_lookup
from apps.core.errors import DomainError
from apps.core.http import client_ip, safe_next_url

# Which form field shows a refusal; others go to the phone field (or the whole form).
_CODE_ERRORS = {"OTP_NOT_REQUESTED", "OTP_EXPIRED", "OTP_INVALID", "OTP_ATTEMPTS_EXCEEDED",
                "OTP_ALREADY_USED"}  # fmt: skip
_REAL_NAME_FIELDS = {
    "INVALID_ID_NUMBER": "id_number",
    "ID_NUMBER_IN_USE": "id_number",
    "INVALID_REAL_NAME": "name",
}


def _user_id(request: Any) -> int:
    """The signed-in user's id (the view's permission check has run)."""
    return cast(int, request.user.pk)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, target, default=reverse(settings.LOGIN_REDIRECT_URL))


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Step one sends a code (action=send); step two checks it and signs in (action=login)."""
    form = SignInForm(request.POST or None)
    code_sent = False
    resend_in = 0  # seconds until "send code" may be pressed again (the page counts down)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone, code = form.cleaned_data["phone"], form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "send":
                issued = services.otp_request(phone=phone, ip=client_ip(request))
                code_sent = True
                resend_in = settings.OTP_RESEND_COOLDOWN_SECONDS
                messages.success(
                    request,
                    _("A code was sent to %(phone)s.") % {"phone": mask_phone(issued.phone)},
                )
            elif not code:
                form.add_error("code", _("Enter the code from the SMS."))
                code_sent = True
            else:
                signed_in = services.otp_sign_in(phone=phone, code=code)
                user = User.objects.get(pk=signed_in.user_id)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(_next_url(request))
        except DomainError as exc:
            field = "code" if exc.code in _CODE_ERRORS else "phone"
            form.add_error(field, exc.message)
            code_sent = field == "code"
            status = exc.http_status
            resend_in = int(getattr(exc, "retry_after", 0) or 0)
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "code_sent": code_sent,
        "resend_in": resend_in,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "sandbox_inbox_url": settings.SANDBOX_INBOX_URL,
    }
    return render(request, "accounts/sign_in.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = RealNameForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.real_name_submit(user_id=_user_id(request), **form.cleaned_data)
            except DomainError as exc:
                field = _REAL_NAME_FIELDS.get(exc.code)
                form.add_error(field, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("Your real-name identity is registered."))
                return redirect("accounts:profile")
        else:
            status = 400
    profile = selectors.user_profile(user_id=_user_id(request))
    labels = dict(Role.choices)
    context = {
        "profile": profile,
        "role_labels": [str(labels.get(role, role)) for role in profile.roles],
        "form": form,
        "line": _line(profile.phone),
    }
    return render(request, "accounts/profile.html", context, status=status)


def _line(phone: str) -> dict[str, object]:
    """The carrier's view of the user's own number, or why it cannot be shown right now."""
    try:
        info = subscriber_lookup(msisdn=phone)
    except SubscriberNotFound:
        return {"error": _("This number is not a China Mobile line.")}
    except CarrierUnavailable:
        return {"error": _("Your line's details cannot be fetched right now.")}
    return {
        "info": info,
        "operator": operator_label(info.operator),
        "status": line_status_label(info.status),
    }


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
