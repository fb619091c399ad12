"""Workbench: review CP applications, products, price points and price changes; see charges, subscriptions,
entitlements and CP notifications. Every decision goes through the content services (audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from apps.content import services
from apps.content.models import (
    Charge,
    Chargeback,
    Complaint,
    ContentProduct,
    ContentProvider,
    CpDocument,
    Entitlement,
    Notification,
    PricePoint,
    Subscription,
)
from apps.core.errors import DomainError
from apps.risk import selectors as risk_selectors


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown to the content provider)"), max_length=200, widget=forms.Textarea
    )


def _decide(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    needs_reason: bool,
    title: str,
    decide: Callable[[Any, str, int], object],
    hint: str = "",
) -> HttpResponse | None:
    """Apply a decision to each selected row; a rejection or suspension first asks the reason."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if needs_reason and not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request), "title": title, "objects": queryset, "form": form,
            "action": request.POST.get("action", ""), "opts": modeladmin.model._meta,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME), "hint": hint,
        }  # fmt: skip
        return TemplateResponse(request, "admin/content/decision.html", context)
    reason = form.cleaned_data["reason"] if needs_reason else ""
    for obj in queryset:
        try:
            result = decide(obj.pk, reason, cast(int, request.user.pk))
        except DomainError as exc:
            messages.warning(request, f"{obj}: {exc.message}")
        else:
            waiting = _second_review_asked(result)
            if waiting:
                messages.info(request, f"{obj}: {waiting}")
            else:
                messages.success(request, f"{obj}: {title}")
    return None


def _second_review_asked(result: object) -> str:
    """What to tell the operator whose approval was the first of two (risk's vetting)."""
    if isinstance(result, ContentProduct):
        waiting = result.status == ContentProduct.Status.PENDING and result.first_reviewer_id
        price = result.price_fen
    elif isinstance(result, PricePoint):
        if result.status == PricePoint.Status.PENDING and result.first_reviewer_id:
            waiting, price = True, result.price_fen
        else:
            waiting = bool(result.proposed_price_fen and result.price_first_reviewer_id)
            price = result.proposed_price_fen or 0
    else:
        return ""
    if not waiting:
        return ""
    reasons = risk_selectors.vetting_needs_second_reviewer(price_fen=price, cp_id=str(result.cp_id))
    return str(
        _("First approval recorded; risk control asks for a second reviewer (%(reasons)s).")
        % {"reasons": ", ".join(reasons)}
    )


class DocumentInline(admin.TabularInline):
    model = CpDocument
    extra = 0
    readonly_fields = ("title", "file", "uploaded_at")
    can_delete = False


@admin.register(ContentProvider)
class ContentProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "licence_number", "status", "revenue_share_bp", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "licence_number")
    readonly_fields = ("status", "reject_reason")
    inlines = [DocumentInline]
    actions = ["approve", "reject", "suspend"]

    def _review(
        self, request: HttpRequest, queryset: QuerySet[Any], decision: str, title: str
    ) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=decision != "approve", title=title,
                       decide=lambda pk, reason, actor: services.cp_review(cp_id=pk, decision=decision, actor_id=actor, reason=reason))  # fmt: skip

    @admin.action(description=_("Approve selected content providers"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "approve", str(_("Approve")))

    @admin.action(description=_("Reject selected content providers"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "reject", str(_("Reject")))

    @admin.action(description=_("Suspend selected content providers"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "suspend", str(_("Suspend")))


class PricePointInline(admin.TabularInline):
    model = PricePoint
    extra = 0
    can_delete = False
    fields = ("label", "price_fen", "billing_code", "is_default", "active", "status",
              "reject_reason", "proposed_price_fen", "price_reject_reason")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ContentProduct)
class ContentProductAdmin(admin.ModelAdmin):
    list_display = ("title", "cp", "kind", "billing_mode", "price_fen", "status", "second_review")
    list_filter = ("status", "kind", "billing_mode")
    search_fields = ("title", "billing_code")
    readonly_fields = (
        "status",
        "reject_reason",
        "price_fen",
        "billing_code",
        "catalog_product_id",
        "catalog_sku_id",
        "first_reviewer_id",
    )
    inlines = [PricePointInline]
    actions = ["approve", "reject", "suspend"]

    @admin.display(description=_("second reviewer"))
    def second_review(self, obj: ContentProduct) -> str:
        return str(_("awaiting a second reviewer")) if obj.first_reviewer_id else ""

    def _review(
        self, request: HttpRequest, queryset: QuerySet[Any], decision: str, title: str
    ) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=decision != "approve", title=title,
                       decide=lambda pk, reason, actor: services.product_review(product_id=pk, decision=decision, actor_id=actor, reason=reason))  # fmt: skip

    @admin.action(description=_("Approve selected products (on sale)"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "approve", str(_("Approve")))

    @admin.action(description=_("Reject selected products"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "reject", str(_("Reject")))

    @admin.action(description=_("Suspend selected products"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._review(request, queryset, "suspend", str(_("Suspend")))


class AwaitingReview(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("waiting", _("awaiting review"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "waiting":
            return queryset.filter(
                Q(status=PricePoint.Status.PENDING, is_default=False)
                | Q(proposed_price_fen__isnull=False)
            )
        return queryset


@admin.register(PricePoint)
class PricePointAdmin(admin.ModelAdmin):
    """The prices each product is sold at: a new price point and each price change wait for
    an operator (a rejection's reason is shown to the CP); a default price point is reviewed
    with its product."""

    list_display = ("product", "label", "price_fen", "proposed_price_fen", "billing_code",
                    "is_default", "active", "status", "second_review")  # fmt: skip
    list_filter = (AwaitingReview, "status", "active")
    search_fields = ("billing_code", "label", "product__title")
    list_select_related = ("product",)
    readonly_fields = ("cp", "product", "label", "price_fen", "billing_code", "is_default", "active",
                       "status", "reject_reason", "proposed_price_fen", "price_reject_reason",
                       "first_reviewer_id", "price_first_reviewer_id", "catalog_sku_id")  # fmt: skip
    actions = ["approve", "reject", "approve_price", "reject_price"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("second reviewer"))
    def second_review(self, obj: PricePoint) -> str:
        if obj.first_reviewer_id or obj.price_first_reviewer_id:
            return str(_("awaiting a second reviewer"))
        return ""

    @admin.action(description=_("Approve the selected price points"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=False, title=str(_("Approve")),
                       decide=lambda pk, reason, actor: services.price_point_review(price_point_id=pk, approve=True, actor_id=actor))  # fmt: skip

    @admin.action(description=_("Reject the selected price points"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=True, title=str(_("Reject")),
                       decide=lambda pk, reason, actor: services.price_point_review(price_point_id=pk, approve=False, actor_id=actor, reason=reason))  # fmt: skip

    @admin.action(description=_("Approve the proposed prices"), permissions=["change"])
    def approve_price(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=False, title=str(_("Approve")),
                       decide=lambda pk, reason, actor: services.price_change_review(price_point_id=pk, approve=True, actor_id=actor))  # fmt: skip

    @admin.action(description=_("Reject the proposed prices"), permissions=["change"])
    def reject_price(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=True, title=str(_("Reject")),
                       decide=lambda pk, reason, actor: services.price_change_review(price_point_id=pk, approve=False, actor_id=actor, reason=reason))  # fmt: skip


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Charge)
class ChargeAdmin(ReadOnly):
    list_display = (
        "id",
        "cp",
        "product",
        "price_point",
        "msisdn",
        "amount_fen",
        "channel",
        "status",
        "created_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("id", "msisdn", "cp_order_id")
    actions = ["charge_back"]

    def has_chargeback_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("content.add_chargeback"))

    @admin.action(
        description=_("Record a chargeback of the selected charges"), permissions=["chargeback"]
    )
    def charge_back(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        """The carrier took a disputed charge's money back: the money goes back through the
        ledger once, the CP's share off its next statement, access revoked, the CP told."""
        return _decide(self, request, queryset, needs_reason=True, title=str(_("Charged back")),
                       decide=lambda pk, reason, actor: services.chargeback_record(charge_id=pk, reason=reason, source="operator", actor_id=actor),
                       hint=str(_("The reason is sent to the content provider. It applies to:")))  # fmt: skip


@admin.register(Chargeback)
class ChargebackAdmin(ReadOnly):
    """Chargebacks recorded by operators or from the carrier's dispute files
    (``manage.py content_import_disputes``)."""

    list_display = (
        "created_at",
        "charge",
        "amount_fen",
        "share_fen",
        "source",
        "dispute_reference",
        "reason",
    )
    list_filter = ("source",)
    search_fields = ("charge__id", "charge__msisdn", "dispute_reference")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnly):
    list_display = ("id", "product", "msisdn", "status", "period_end", "next_try_at", "failures")
    list_filter = ("status",)
    search_fields = ("msisdn",)


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnly):
    list_display = (
        "user_id",
        "product",
        "source",
        "reference",
        "chapter",
        "starts_at",
        "ends_at",
        "revoked_at",
    )
    list_filter = ("source",)


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = (
        "event",
        "cp",
        "status",
        "attempts",
        "last_response",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnly):
    """Subscribers' "I did not order this" about a content charge: refund it (a refund marked
    fraud for risk control) or reject the complaint with an answer the subscriber reads."""

    list_display = (
        "created_at",
        "charge",
        "charge_amount",
        "charge_cp",
        "status",
        "answer",
        "handled_at",
    )
    list_filter = ("status",)
    search_fields = ("charge__id", "charge__msisdn")
    list_select_related = ("charge", "charge__cp")
    actions = ["refund", "reject"]
    readonly_fields = (
        "charge",
        "user_id",
        "note",
        "status",
        "answer",
        "handled_by_id",
        "created_at",
        "handled_at",
    )

    @admin.display(description=_("amount (fen)"))
    def charge_amount(self, obj: Complaint) -> int:
        return obj.charge.amount_fen

    @admin.display(description=_("content provider"))
    def charge_cp(self, obj: Complaint) -> str:
        return str(obj.charge.cp)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("content.change_complaint"))

    @admin.action(description=_("Refund the charges complained about"), permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=False, title=str(_("Refunded")),
                       decide=lambda pk, reason, actor: services.complaint_handle(complaint_id=pk, refund=True, actor_id=actor))  # fmt: skip

    @admin.action(description=_("Reject the selected complaints"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return _decide(self, request, queryset, needs_reason=True, title=str(_("Rejected")),
                       decide=lambda pk, reason, actor: services.complaint_handle(complaint_id=pk, refund=False, actor_id=actor, answer=reason),
                       hint=str(_("The answer is shown to the subscriber. It applies to:")))  # fmt: skip
