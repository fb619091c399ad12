"""The workbench's second-factor state of a session, the gate in front of /admin/, and the
re-check that sensitive actions (refund approval, role changes, payouts) call."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

SESSION_KEY = "staff_2fa_at"


def second_factor_mark(session: Any) -> None:
    """Record in the session that its staff member just passed the second factor."""
    session[SESSION_KEY] = int(time.time())


def second_factor_passed(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_KEY))


def second_factor_recent(request: HttpRequest) -> bool:
    """Passed within STAFF_REAUTH_SECONDS: what a sensitive action asks for."""
    passed = request.session.get(SESSION_KEY) or 0
    return time.time() - passed <= settings.STAFF_REAUTH_SECONDS


def second_factor_redirect(request: HttpRequest, next_url: str | None = None) -> HttpResponse:
    """Off to the authenticator check, then back to ``next_url`` (the current page)."""
    messages.warning(request, _("Confirm with your authenticator code, then repeat the action."))
    target = next_url or request.get_full_path()
    return HttpResponseRedirect(f"{reverse('accounts:staff-verify')}?next={quote(target)}")


def recent_second_factor_required(action: Callable[..., Any]) -> Callable[..., Any]:
    """For workbench actions ``(modeladmin, request, queryset)``: without a recent second
    factor, nothing is done and the staff member is asked for a code first."""

    @functools.wraps(action)
    def wrapper(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
        if not second_factor_recent(request):
            return second_factor_redirect(request)
        return action(modeladmin, request, queryset)

    return wrapper


class StaffSecondFactorMiddleware:
    """A staff session that has not passed password and authenticator (an SMS sign-in, say)
    does not reach the workbench: it is sent to the workbench sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            admin_root = reverse("admin:index")
        except NoReverseMatch:  # a URL configuration without the workbench
            return self.get_response(request)
        if (
            request.path.startswith(admin_root)
            and request.path not in (reverse("admin:login"), reverse("admin:logout"))
            and request.user.is_authenticated
            and request.user.is_staff
            and not second_factor_passed(request)
        ):
            return HttpResponseRedirect(
                f"{reverse('admin:login')}?next={quote(request.get_full_path())}"
            )
        return self.get_response(request)
