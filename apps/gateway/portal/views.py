"""Developer-portal pages: company registration, apps, credentials, packages and usage."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.crypto import decrypt_text, encrypt_text
from apps.core.errors import DomainError
from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models import App, Environment, Partner
from apps.gateway.portal import access, selectors, services
from apps.gateway.portal.errors import AppNotFound
from apps.gateway.portal.forms import AppForm, CompanyForm, CredentialForm, UsageForm
from apps.gateway.portal.usage import usage_report
from apps.gateway.services import IssuedCredential

_REVEAL_KEY = "gateway_reveal"
# Which form field shows a refusal; others go to the top of the form.
_COMPANY_FIELDS = {"INVALID_LICENCE_NUMBER": "licence_number", "LICENCE_NUMBER_IN_USE": "licence_number",
                   "INVALID_PHONE_NUMBER": "contact_phone"}  # fmt: skip
_APP_FIELDS = {"INVALID_APP_NAME": "name", "APP_NAME_TAKEN": "name",
               "INVALID_CALLBACK_URL": "callback_urls", "INVALID_IP_ALLOW_LIST": "ip_allowlist"}  # fmt: skip


def _user_id(request: Any) -> int:
    """The signed-in user's id (``login_required`` has run)."""
    return cast(int, request.user.pk)


def _owned_app(request: HttpRequest, app_id: int) -> App:
    """One of the user's apps; anyone else's is a plain 404, as if it did not exist."""
    try:
        return selectors.app_of(user_id=_user_id(request), app_id=app_id)
    except AppNotFound as exc:
        raise Http404 from exc


def _field_error(form: Any, mapping: dict[str, str], exc: DomainError) -> None:
    field = mapping.get(exc.code) or (exc.details.get("field") if exc.details else None)
    form.add_error(field if field in form.fields else None, exc.message)


def _stash_secret(request: HttpRequest, issued: IssuedCredential) -> None:
    """Keep a new secret for the one page that shows it, encrypted like every stored secret."""
    payload = {
        "app_id": issued.app_id,
        "client_id": issued.client_id,
        "environment": issued.environment,
        "secret": issued.secret,
        "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
    }
    request.session[_REVEAL_KEY] = encrypt_text(json.dumps(payload))


def home(request: HttpRequest) -> HttpResponse:
    """The portal's own landing page for a visitor (what it offers, the capabilities and
    packages with their prices, sign-in; no mall header); the signed-in user's dashboard."""
    if not request.user.is_authenticated:
        labels = dict(Capability.choices)
        packages = [
            (package, [str(labels.get(code, code)) for code in package.capabilities])
            for package in selectors.packages_offered()
        ]
        return render(
            request,
            "gateway/portal/landing.html",
            {"capabilities": Capability.choices, "packages": packages},
        )
    user_id = _user_id(request)
    partner = selectors.partner_of(user_id=user_id)
    apps = list(selectors.apps_of(user_id=user_id)) if partner else []
    return render(request, "gateway/portal/home.html", {"partner": partner, "apps": apps})


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register the company, or correct a rejected registration and send it again."""
    user_id = _user_id(request)
    partner = selectors.partner_of(user_id=user_id)
    if partner is not None and partner.status != Partner.Status.REJECTED:
        return redirect("gateway-portal:home")
    initial: dict[str, Any] = {"contact_phone": getattr(request.user, "phone_display", "")}
    if partner is not None:
        initial = {f: getattr(partner, f) for f in CompanyForm.base_fields}
    form = CompanyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.partner_register(user_id=user_id, **form.cleaned_data)
            except DomainError as exc:
                _field_error(form, _COMPANY_FIELDS, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Your company is registered and waits for review."))
                return redirect("gateway-portal:home")
        else:
            status = 400
    context = {"form": form, "partner": partner}
    return render(request, "gateway/portal/register.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def app_new(request: HttpRequest) -> HttpResponse:
    user_id = _user_id(request)
    try:
        services.approved_partner_for(user_id=user_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("gateway-portal:home")
    form = AppForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.app_create(user_id=user_id, **form.cleaned_data)
            except DomainError as exc:
                _field_error(form, _APP_FIELDS, exc)
                status = exc.http_status
            else:
                _stash_secret(request, created.credential)
                return redirect("gateway-portal:secret")
        else:
            status = 400
    return render(request, "gateway/portal/app_form.html", {"form": form}, status=status)


@login_required
def app_detail(request: HttpRequest, app_id: int) -> HttpResponse:
    app = _owned_app(request, app_id)
    credentials = selectors.credentials_of(app_id=app.pk)
    context = {
        "app": app,
        "sandbox_credentials": [c for c in credentials if c.environment == Environment.SANDBOX],
        "production_credentials": [
            c for c in credentials if c.environment == Environment.PRODUCTION
        ],
        "subscriptions": selectors.subscriptions_of(app_id=app.pk),
        "production_approved": app.production_status == App.ProductionStatus.APPROVED,
        "can_request_production": app.production_status
        in (App.ProductionStatus.NONE, App.ProductionStatus.REJECTED),
    }
    return render(request, "gateway/portal/app_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def app_edit(request: HttpRequest, app_id: int) -> HttpResponse:
    user_id = _user_id(request)
    app = _owned_app(request, app_id)
    initial = {f: getattr(app, f) for f in AppForm.base_fields}
    form = AppForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.app_update(user_id=user_id, app_id=app.pk, **form.cleaned_data)
            except DomainError as exc:
                _field_error(form, _APP_FIELDS, exc)
                status = exc.http_status
            else:
                messages.success(request, _("The app's settings are saved."))
                return redirect("gateway-portal:app", app_id=app.pk)
        else:
            status = 400
    context = {"form": form, "app": app}
    return render(request, "gateway/portal/app_form.html", context, status=status)


def _act(request: HttpRequest, app_id: int, action: Any, done: str) -> HttpResponse:
    """Run a POST action on an app; show its refusal, or ``done``, on the app's page."""
    try:
        action()
    except DomainError as exc:
        if exc.http_status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("gateway-portal:app", app_id=app_id)


def _issue(request: HttpRequest, app_id: int, issue: Any) -> HttpResponse:
    """Issue a credential and show its secret once; a refusal is shown on the app's page."""
    try:
        issued = issue()
    except DomainError as exc:
        if exc.http_status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("gateway-portal:app", app_id=app_id)
    _stash_secret(request, issued)
    return redirect("gateway-portal:secret")


@login_required
@require_POST
def app_production(request: HttpRequest, app_id: int) -> HttpResponse:
    user_id = _user_id(request)
    return _act(
        request,
        app_id,
        lambda: services.app_production_request(user_id=user_id, app_id=app_id),
        _("Production access is requested; an operator will review it."),
    )


@login_required
@require_POST
def credential_new(request: HttpRequest, app_id: int) -> HttpResponse:
    user_id = _user_id(request)
    form = CredentialForm(request.POST)
    environment = form.cleaned_data["environment"] if form.is_valid() else ""
    return _issue(
        request,
        app_id,
        lambda: access.app_credential_issue(
            user_id=user_id, app_id=app_id, environment=environment
        ),
    )


@login_required
@require_POST
def credential_rotate(request: HttpRequest, app_id: int, credential_id: int) -> HttpResponse:
    user_id = _user_id(request)
    return _issue(
        request,
        app_id,
        lambda: access.app_credential_rotate(
            user_id=user_id, app_id=app_id, credential_id=credential_id
        ),
    )


@login_required
@require_POST
def credential_revoke(request: HttpRequest, app_id: int, credential_id: int) -> HttpResponse:
    user_id = _user_id(request)
    return _act(
        request,
        app_id,
        lambda: access.app_credential_revoke(
            user_id=user_id, app_id=app_id, credential_id=credential_id
        ),
        _("The credential is revoked; calls signed with it are refused from now on."),
    )


@never_cache
@login_required
def secret(request: HttpRequest) -> HttpResponse:
    """Show a new secret once: it is taken out of the session as the page is rendered."""
    token = request.session.pop(_REVEAL_KEY, None)
    if token is None:
        return render(request, "gateway/portal/secret.html", {"shown": None}, status=410)
    shown = json.loads(decrypt_text(token))
    _owned_app(request, shown["app_id"])  # still the user's
    if shown["expires_at"]:  # shown in the visitor's time zone by the template
        shown["expires_at"] = datetime.fromisoformat(shown["expires_at"])
    response = render(request, "gateway/portal/secret.html", {"shown": shown})
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def packages(request: HttpRequest, app_id: int) -> HttpResponse:
    app = _owned_app(request, app_id)
    subscribed = {s.package_code: s for s in selectors.subscriptions_of(app_id=app.pk)}
    labels = dict(Capability.choices)
    offered = [
        (p, subscribed.get(p.code), [str(labels.get(c, c)) for c in p.capabilities])
        for p in selectors.packages_offered()
    ]
    context = {"app": app, "offered": offered}
    return render(request, "gateway/portal/packages.html", context)


@login_required
@require_POST
def subscribe(request: HttpRequest, app_id: int) -> HttpResponse:
    """Subscribe to a package; a paid one first shows its price and asks to confirm."""
    user_id = _user_id(request)
    code = request.POST.get("package", "")
    package = selectors.packages_offered().filter(code=code).first()
    is_paid = package is not None and bool(package.price_fen or package.price_per_call_fen)
    if package is not None and is_paid and request.POST.get("confirm") != "yes":
        app = _owned_app(request, app_id)
        labels = dict(Capability.choices)
        context = {
            "app": app,
            "package": package,
            "capability_labels": [str(labels.get(c, c)) for c in package.capabilities],
        }
        return render(request, "gateway/portal/subscribe_confirm.html", context)
    try:
        access.app_subscribe(user_id=user_id, app_id=app_id, package_code=code)
    except DomainError as exc:
        if exc.code == "APP_NOT_FOUND":
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Subscribed."))
    return redirect("gateway-portal:packages", app_id=app_id)


@login_required
@require_POST
def unsubscribe(request: HttpRequest, app_id: int) -> HttpResponse:
    user_id = _user_id(request)
    code = request.POST.get("package", "")
    try:
        access.app_unsubscribe(user_id=user_id, app_id=app_id, package_code=code)
    except DomainError as exc:
        if exc.code == "APP_NOT_FOUND":
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Unsubscribed; calls to its capabilities stop now."))
    return redirect("gateway-portal:packages", app_id=app_id)


@login_required
def usage(request: HttpRequest, app_id: int) -> HttpResponse:
    """Charts of calls, errors and latency; htmx swaps only the chart when a filter changes."""
    app = _owned_app(request, app_id)
    form = UsageForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    granularity = params.get("granularity") or "day"
    report = usage_report(
        app_ids=[app.pk],
        granularity=granularity,
        periods=params.get("periods") or (14 if granularity == "day" else 24),
        capability=params.get("capability") or None,
        environment=params.get("environment") or None,
    )
    context = {"app": app, "form": form, "report": report, "chart": report.chart()}
    template = "gateway/portal/_usage_chart.html" if request.htmx else "gateway/portal/usage.html"  # type: ignore[attr-defined]
    return render(request, template, context)
