"""Workbench sign-in pages: password and authenticator code, first-time enrolment with
recovery codes, and the re-check before a sensitive action."""

from __future__ import annotations

import time
from typing import cast
from urllib.parse import quote

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.accounts import staff_auth
from apps.accounts.models import User
from apps.accounts.second_factor import second_factor_mark, second_factor_passed
from apps.core.errors import DomainError
from apps.core.http import client_ip, safe_next_url

_ENROL_KEY = "staff_enrol"  # {"user_id", "at", "next"} between password and first code
_ENROL_SECONDS = 600


class StaffSignInForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=32)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)
    code = forms.CharField(
        label=gettext_lazy("Authenticator code or recovery code"), max_length=16, required=False
    )


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Authenticator code"), max_length=16)


def _start_staff_session(request: HttpRequest, user_id: int, phone: str) -> None:
    login(request, User.objects.get(pk=user_id), backend=settings.AUTHENTICATION_BACKENDS[0])
    second_factor_mark(request.session)
    request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
    _record(request, phone=phone, user_id=user_id, ok=True, reason="")


def _record(
    request: HttpRequest, *, phone: str, user_id: int | None, ok: bool, reason: str
) -> None:
    staff_auth.staff_sign_in_record(
        phone=phone, user_id=user_id, ok=ok, reason=reason, ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )  # fmt: skip


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, target, default=reverse("admin:index"))


@require_http_methods(["GET", "POST"])
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    """The workbench's sign-in (it replaces the admin's): number, password, authenticator code.

    A staff member without an authenticator is taken to enrolment after the password.
    """
    form = StaffSignInForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            checked = staff_auth.staff_password_check(
                phone=phone, password=form.cleaned_data["password"]
            )
            if checked is None:
                _record(request, phone=phone, user_id=None, ok=False, reason="password")
                form.add_error(None, _("The number or the password is wrong."))
            elif not checked.enrolled:
                request.session[_ENROL_KEY] = {
                    "user_id": checked.user_id, "at": int(time.time()), "next": _next(request),
                }  # fmt: skip
                return redirect("accounts:staff-enrol")
            else:
                try:
                    passed = staff_auth.second_factor_check(
                        user_id=checked.user_id,
                        code=form.cleaned_data["code"],
                        ip=client_ip(request),
                    )
                except DomainError as exc:  # locked (429) or Redis down (503)
                    _record(
                        request, phone=phone, user_id=checked.user_id, ok=False, reason=exc.code
                    )
                    form.add_error("code", exc.message)
                    status = exc.http_status
                else:
                    if passed:
                        _start_staff_session(request, checked.user_id, phone)
                        return redirect(_next(request))
                    _record(request, phone=phone, user_id=checked.user_id, ok=False, reason="code")
                    form.add_error("code", _("The code is wrong or was already used."))
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "title": _("Workbench sign-in"),
        "site_header": _("CarrierHub workbench"),
    }
    return render(request, "accounts/staff_sign_in.html", context, status=status)


@require_http_methods(["GET", "POST"])
def staff_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in: scan the QR code, type the first code, keep the recovery codes."""
    pending = request.session.get(_ENROL_KEY) or {}
    if not pending or time.time() - pending["at"] > _ENROL_SECONDS:
        request.session.pop(_ENROL_KEY, None)
        return redirect("admin:login")
    user_id = cast(int, pending["user_id"])
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        codes = staff_auth.totp_enrol_confirm(user_id=user_id, code=form.cleaned_data["code"])
        if codes is not None:
            del request.session[_ENROL_KEY]
            phone = User.objects.get(pk=user_id).phone
            _start_staff_session(request, user_id, phone)
            context = {"codes": codes, "next": pending["next"], "title": _("Recovery codes")}
            return render(request, "accounts/staff_recovery_codes.html", context)
        form.add_error("code", _("The code is wrong. Check the time on your phone and try again."))
        status = 400
    elif request.method == "POST":
        status = 400
    secret = staff_auth.totp_enrol_start(user_id=user_id)
    uri = staff_auth.totp_provisioning_uri(user_id=user_id)
    context = {
        "form": form,
        "secret": secret,
        "qr_svg": segno.make(uri, error="m").svg_inline(scale=5),
        "title": _("Set up your authenticator"),
    }
    return render(request, "accounts/staff_enrol.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def staff_verify(request: HttpRequest) -> HttpResponse:
    """The re-check before a sensitive action: one more authenticator (or recovery) code.

    Only for a session that already passed password and code: it must not turn an SMS
    session into a workbench one with the code alone.
    """
    if not request.user.is_staff or not second_factor_passed(request):
        return redirect(f"{reverse('admin:login')}?next={quote(request.get_full_path())}")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        try:
            passed = form.is_valid() and staff_auth.second_factor_check(
                user_id=cast(int, request.user.pk), code=form.cleaned_data["code"],
                ip=client_ip(request),
            )  # fmt: skip
        except DomainError as exc:  # locked (429) or Redis down (503)
            form.add_error("code", exc.message)
            status = exc.http_status
        else:
            if passed:
                second_factor_mark(request.session)
                return redirect(_next(request))
            form.add_error("code", _("The code is wrong or was already used."))
    context = {
        "form": form,
        "next": request.GET.get("next", ""),
        "title": _("Confirm it is you"),
    }
    return render(request, "accounts/staff_verify.html", context, status=status)
