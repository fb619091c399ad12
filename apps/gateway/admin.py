"""Workbench for the capability gateway: partner and production reviews, packages, a dashboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.gateway import services as gateway
from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models import App, Credential, Package, Partner, Subscription, UsageHourly
from apps.gateway.portal import services, workbench
from apps.gateway.portal.forms import ReasonForm

# Switching a package's one-step flag, or assigning a subscription (any package, so also one
# that carries it), lets a partner charge phone bills without a texted code.
ONE_STEP_PERMISSION = "gateway.change_carrier_billing_one_step"


def _actor(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


def _decide(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    approve: bool,
    title: str,
    decide: Callable[[int, bool, str, int], object],
) -> HttpResponse | None:
    """Approve at once; for a rejection first ask for the reason the partner will read."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if not approve and not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "form": form,
            "action": request.POST.get("action", ""),
            "opts": modeladmin.model._meta,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/gateway/decision.html", context)
    reason = "" if approve else form.cleaned_data["reason"]
    for obj in queryset:
        try:
            decide(obj.pk, approve, reason, _actor(request))
        except DomainError as exc:
            messages.warning(request, f"{obj}: {exc.message}")
        else:
            outcome = _("approved") if approve else _("rejected")
            messages.success(request, f"{obj}: {outcome}")
    return None


class ReviewOnly(admin.ModelAdmin):
    """Rows partners create: operators look and decide through actions, never edit fields."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(Partner)
class PartnerAdmin(ReviewOnly):
    list_display = ["company_name", "licence_number", "contact_name", "contact_phone", "status",
                    "created_at", "reviewed_at"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["company_name", "licence_number", "contact_phone", "owner__phone"]
    list_select_related = ["owner"]
    actions = ["approve", "reject"]
    change_list_template = "admin/gateway/partner/change_list.html"

    @admin.action(description=_("Approve selected registrations"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse | None:
        return _decide(self, request, queryset, approve=True, title="", decide=_partner_review)

    @admin.action(
        description=_("Reject selected registrations (with a reason)"), permissions=["change"]
    )
    def reject(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse | None:
        title = str(_("Reject company registrations"))
        return _decide(self, request, queryset, approve=False, title=title, decide=_partner_review)

    def get_urls(self) -> list[Any]:
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        return [path("dashboard/", dashboard, name="gateway_dashboard"), *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Pending registrations, production requests and the busiest apps of the week."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        board = workbench.dashboard(days=7)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Capability gateway"),
            "board": board,
            "chart": board.report.chart(),
            "opts": self.model._meta,
            "partner_list": reverse("admin:gateway_partner_changelist"),
            "app_list": reverse("admin:gateway_app_changelist"),
        }
        return TemplateResponse(request, "admin/gateway/dashboard.html", context)


def _partner_review(pk: int, approve: bool, reason: str, actor_id: int) -> object:
    return services.partner_review(partner_id=pk, approve=approve, reason=reason, actor_id=actor_id)


def _production_review(pk: int, approve: bool, reason: str, actor_id: int) -> object:
    return services.app_production_review(
        app_id=pk, approve=approve, reason=reason, actor_id=actor_id
    )


_CREDENTIAL_COLUMNS = ("client_id", "environment", "slot", "secret_hint", "created_at",
                       "expires_at", "revoked_at")  # fmt: skip


class CredentialInline(admin.TabularInline):
    model = Credential
    fields = _CREDENTIAL_COLUMNS
    readonly_fields = _CREDENTIAL_COLUMNS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fields = ["package", "status", "starts_at", "ends_at"]
    readonly_fields = ["package", "status", "starts_at", "ends_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(App)
class AppAdmin(ReviewOnly):
    list_display = ["name", "partner", "production_status", "status", "production_requested_at",
                    "created_at"]  # fmt: skip
    list_filter = ["production_status", "status"]
    search_fields = ["name", "partner__company_name", "credentials__client_id"]
    list_select_related = ["partner"]
    inlines = [CredentialInline, SubscriptionInline]
    actions = ["approve_production", "reject_production"]

    @admin.action(
        description=_("Approve production access for selected apps"), permissions=["change"]
    )
    def approve_production(
        self, request: HttpRequest, queryset: QuerySet[App]
    ) -> HttpResponse | None:
        return _decide(self, request, queryset, approve=True, title="", decide=_production_review)

    @admin.action(description=_("Reject production access for selected apps (with a reason)"),
                  permissions=["change"])  # fmt: skip
    def reject_production(
        self, request: HttpRequest, queryset: QuerySet[App]
    ) -> HttpResponse | None:
        title = str(_("Reject production access"))
        return _decide(
            self, request, queryset, approve=False, title=title, decide=_production_review
        )


@admin.register(Credential)
class CredentialAdmin(ReviewOnly):
    list_display = ["client_id", "app", "environment", "slot", "secret_hint", "created_at",
                    "expires_at", "revoked_at"]  # fmt: skip
    list_filter = ["environment"]
    search_fields = ["client_id", "app__name"]
    list_select_related = ["app"]
    actions = ["revoke"]
    exclude = ["secret_encrypted"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "secret_encrypted"]

    @admin.action(description=_("Revoke selected credentials now"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            if gateway.credential_revoke(credential_id=credential.pk, actor_id=_actor(request)):
                revoked = _("revoked")
                messages.success(request, f"{credential.client_id}: {revoked}")


class PackageForm(forms.ModelForm):
    capabilities = forms.MultipleChoiceField(
        label=_("capabilities"), choices=Capability.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Package
        fields = ["code", "name", "description", "capabilities", "quota_calls", "quota_period",
                  "rate_per_second", "price_fen", "price_per_call_fen", "carrier_billing_one_step",
                  "is_active"]  # fmt: skip


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    form = PackageForm
    list_display = ["code", "name", "quota_calls", "quota_period", "rate_per_second", "price_fen",
                    "price_per_call_fen", "is_active"]  # fmt: skip
    list_filter = ["is_active", "quota_period"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Subscriptions point at packages; retire one by unticking "active" instead.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if request.user.has_perm(ONE_STEP_PERMISSION):
            return []
        return ["carrier_billing_one_step"]

    def save_model(self, request: HttpRequest, obj: Package, form: Any, change: bool) -> None:
        # The admin's change view runs in one transaction: the row lock holds until the audit
        # event commits with the change.
        before = (
            Package.objects.select_for_update()
            .filter(pk=obj.pk)
            .values_list("carrier_billing_one_step", flat=True)
            .first()
            if change
            else None
        )
        if bool(before) != obj.carrier_billing_one_step and not request.user.has_perm(
            ONE_STEP_PERMISSION
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        gateway.package_one_step_record(
            package_id=obj.pk, before=before, after=obj.carrier_billing_one_step,
            actor_id=_actor(request),
        )  # fmt: skip
        if change:
            gateway.package_changed(package_id=obj.pk)


@admin.register(Subscription)
class SubscriptionAdmin(ReviewOnly):
    list_display = ["app", "package", "status", "starts_at", "ends_at"]
    list_filter = ["status", "package"]
    search_fields = ["app__name", "app__partner__company_name"]
    list_select_related = ["app", "package"]

    # Partners subscribe themselves from the portal, except to a package with the one-step
    # agreement: an operator with the one-step permission assigns that here (any package).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ONE_STEP_PERMISSION)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["app", "package"] if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "package":
            kwargs["queryset"] = Package.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied
        # gwcore's write: locks the app, idempotent per (app, package), audited.
        obj.pk = gateway.subscription_start(
            app_id=obj.app_id, package_id=obj.package_id, actor_id=_actor(request)
        )
        obj.refresh_from_db()


@admin.register(UsageHourly)
class UsageHourlyAdmin(ReviewOnly):
    list_display = ["hour", "app_id", "environment", "capability", "calls", "errors", "throttled"]
    list_filter = ["environment", "capability"]
    date_hierarchy = "hour"
