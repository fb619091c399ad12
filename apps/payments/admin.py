"""Workbench: payments, their raw events, and refunds that finance approves or rejects."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from apps.accounts.second_factor import recent_second_factor_required
from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.payments import selectors, services
from apps.payments.models import PaymentEvent, PaymentIntent, Refund
from apps.payments.providers.base import ProviderRejected, ProviderUnavailable


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnly):
    list_display = [
        "public_id",
        "method",
        "channel",
        "amount",
        "status",
        "settles",
        "purpose",
        "reference",
        "created_at",
        "paid_at",
    ]
    list_filter = ["method", "status", "settles", "purpose"]
    search_fields = ["public_id", "reference", "provider_trade_no"]
    date_hierarchy = "created_at"
    actions = ["query_provider"]

    @admin.display(description=_("Amount"), ordering="amount_fen")
    def amount(self, obj: PaymentIntent) -> str:
        return format_fen(obj.amount_fen)

    def has_query_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.query_paymentintent")

    @admin.action(
        description=_("Ask the provider for the state of selected payments"), permissions=["query"]
    )
    def query_provider(self, request: HttpRequest, queryset: QuerySet[PaymentIntent]) -> None:
        for public_id in queryset.values_list("public_id", flat=True):
            try:
                outcome = services.intent_sync(public_id=public_id)
            except (ProviderUnavailable, ProviderRejected, DomainError) as exc:
                outcome = exc.code
            messages.info(request, f"{public_id}: {outcome}")


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnly):
    list_display = ["created_at", "method", "kind", "verified", "outcome", "intent"]
    list_filter = ["method", "kind", "verified"]
    search_fields = ["dedupe_key", "intent__public_id"]
    date_hierarchy = "created_at"


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = [
        "public_id",
        "intent",
        "amount",
        "status",
        "automatic",
        "reason",
        "lines",
        "requested_by",
        "first_approved_by",
        "decided_by",
        "created_at",
        "error_code",
    ]
    list_filter = ["status", "automatic"]
    search_fields = ["public_id", "intent__public_id", "intent__reference"]
    list_select_related = ["intent", "requested_by", "first_approved_by", "decided_by"]
    readonly_fields = ["lines"]
    actions = ["approve", "reject", "retry", "mark_fraud"]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The page's refunds get their lines' delivery states in one call per purpose."""
        changelist = super().get_changelist_instance(request)
        refunds = list(changelist.result_list)  # evaluated once: the template reuses them
        lines = selectors.refunds_lines(refunds)
        for refund in refunds:
            refund.described_lines = lines[refund.pk]
        return changelist

    @admin.display(description=_("Delivery of the lines"))
    def lines(self, obj: Refund) -> str:
        """Each line of what the refund pays back, with its delivery state (from its owner)."""
        described = getattr(obj, "described_lines", None)
        if described is None:  # the approval page: one refund
            described = selectors.refunds_lines([obj])[obj.pk]
        if not described:
            return "-"
        return format_html_join(
            mark_safe("<br>"), "{}: {}", ((line.name, line.state_label) for line in described)
        )

    @admin.display(description=_("Amount"), ordering="amount_fen")
    def amount(self, obj: Refund) -> str:
        return format_fen(obj.amount_fen)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Refund], approve: bool) -> None:
        for refund in queryset:
            try:
                decided = services.refund_decide(
                    refund_id=refund.pk, approve=approve, actor_id=cast(int, request.user.pk)
                )
            except DomainError as exc:
                messages.warning(request, f"{refund.public_id}: {exc.message}")
            else:
                if not approve:
                    done = _("rejected")
                elif decided.status == Refund.Status.REQUESTED:
                    done = _("first approval recorded; a second finance user must approve")
                else:
                    done = _("approved")
                messages.success(request, f"{refund.public_id}: {done}")

    @admin.action(
        description=_("Approve selected refunds (they are then paid back)"), permissions=["change"]
    )
    @recent_second_factor_required
    def approve(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject selected refunds"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        self._decide(request, queryset, approve=False)

    @admin.action(description=_("Retry selected failed refunds"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        for refund in queryset.filter(status=Refund.Status.FAILED):
            messages.info(
                request, f"{refund.public_id}: {services.refund_execute(refund_id=refund.pk)}"
            )

    def has_mark_fraud_permission(self, request: HttpRequest) -> bool:
        # Labels are risk control's: its role (or anyone who may add labels) marks fraud.
        return request.user.has_perm("risk.add_label")

    @admin.action(
        description=_(
            "Mark selected refunds as fraud (a risk label on the subscriber, number and device)"
        ),
        permissions=["mark_fraud"],
    )
    def mark_fraud(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        for refund in queryset:
            marked = services.refund_mark_fraud(
                refund_id=refund.pk, actor_id=cast(int, request.user.pk), note="workbench"
            )
            done = _("marked as fraud") if marked else _("already marked as fraud")
            messages.success(request, f"{refund.public_id}: {done}")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change permission gates the approve/reject actions; the form stays read-only.
        return obj is None and request.user.has_perm("payments.change_refund")
