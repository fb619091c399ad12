"""Workbench: bulk distribution batches and rows, enterprise top-ups, sponsored data grants and
the partners' sponsored data agreements (their monthly limits)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.enterprise import billing, selectors, services, sponsored
from apps.enterprise.models import (
    BulkBatch,
    BulkRow,
    EnterpriseTopUp,
    SponsorAgreement,
    SponsoredGrant,
)


@admin.register(BulkBatch)
class BulkBatchAdmin(admin.ModelAdmin):
    list_display = [
        "batch_no",
        "owner",
        "file_name",
        "status",
        "total_rows",
        "invalid_rows",
        "progress",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["batch_no", "owner__phone", "file_name"]
    readonly_fields = [f.name for f in BulkBatch._meta.fields] + ["progress", "rows_link"]
    list_select_related = ["owner"]
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("delivered / failed / waiting"))
    def progress(self, obj: BulkBatch) -> str:
        p = selectors.batch_progress(batch_no=obj.batch_no, owner_id=None)
        return f"{p.delivered} / {p.failed} / {p.pending} · {format_fen(p.charged_fen)}"

    @admin.display(description=_("rows"))
    def rows_link(self, obj: BulkBatch) -> str:
        url = reverse("admin:enterprise_bulkrow_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Show the rows"))

    @admin.action(
        description=_("Retry the failed rows of selected batches"), permissions=["change"]
    )
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[BulkBatch]) -> None:
        for batch_no in queryset.values_list("batch_no", flat=True):
            try:
                count = services.bulk_batch_retry_failed(
                    batch_no=batch_no, owner_id=None, actor_id=request.user.pk
                )
            except DomainError as exc:
                messages.warning(request, f"{batch_no}: {exc.message}")
            else:
                messages.info(request, f"{batch_no}: {count}")


@admin.register(BulkRow)
class BulkRowAdmin(admin.ModelAdmin):
    list_display = [
        "batch",
        "row_no",
        "msisdn",
        "pack_code",
        "status",
        "error_code",
        "attempts",
        "price_fen",
        "updated_at",
    ]
    list_filter = ["status", "error_code"]
    search_fields = ["batch__batch_no", "msisdn", "raw_msisdn"]
    readonly_fields = [f.name for f in BulkRow._meta.fields]
    list_select_related = ["batch"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SponsoredGrant)
class SponsoredGrantAdmin(admin.ModelAdmin):
    """Read only: a grant moves by its delivery, and its money by the ledger. An ``unconfirmed``
    grant (a to-do) waits for the carrier to say whether it applied it; the sweep asks."""

    list_display = [
        "created_at",
        "sponsor_name",
        "request_id",
        "msisdn",
        "pack_code",
        "amount",
        "status",
        "error_code",
        "attempts",
        "maybe_applied",
    ]
    list_filter = ["status", "month"]
    search_fields = ["request_id", "msisdn", "sponsor__phone", "sponsor_name"]
    readonly_fields = [f.name for f in SponsoredGrant._meta.fields]
    list_select_related = ["sponsor"]

    @admin.display(description=_("amount"))
    def amount(self, obj: SponsoredGrant) -> str:
        return format_fen(obj.price_fen)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _distributors() -> QuerySet[User]:
    return User.objects.filter(groups__name__in=selectors.DISTRIBUTOR_ROLES).distinct()


@admin.register(SponsorAgreement)
class SponsorAgreementAdmin(admin.ModelAdmin):
    """Operators set a partner's own monthly sponsored data limits (empty: the platform's
    default); saved through ``sponsor_agreement_save``, which audits the change."""

    fields = ["sponsor", "monthly_limit_fen", "grants_per_number"]
    list_display = ["sponsor", "monthly_limit", "packs_per_number", "updated_at", "updated_by"]
    search_fields = ["sponsor__phone"]
    list_select_related = ["sponsor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["sponsor"] if obj else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "sponsor":
            kwargs["queryset"] = _distributors()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("monthly limit"))
    def monthly_limit(self, obj: SponsorAgreement) -> str:
        limits = selectors.sponsor_limits(sponsor_id=obj.sponsor_id)
        shown = format_fen(limits.monthly_limit_fen)
        return shown if limits.own_fen else f"{shown} ({_('default')})"

    @admin.display(description=_("packs per number per month"))
    def packs_per_number(self, obj: SponsorAgreement) -> str:
        limits = selectors.sponsor_limits(sponsor_id=obj.sponsor_id)
        shown = str(limits.grants_per_number)
        return shown if limits.own_grants else f"{shown} ({_('default')})"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # emptied limits are the defaults again

    def save_model(
        self, request: HttpRequest, obj: SponsorAgreement, form: Any, change: bool
    ) -> None:
        saved = sponsored.sponsor_agreement_save(
            sponsor_id=obj.sponsor_id, monthly_limit_fen=obj.monthly_limit_fen,
            grants_per_number=obj.grants_per_number, actor_id=request.user.pk,
        )  # fmt: skip
        obj.pk = saved.pk


class TopUpForm(forms.ModelForm):
    class Meta:
        model = EnterpriseTopUp
        fields = ["enterprise", "amount_fen", "reference", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("amount_fen") is not None and data["amount_fen"] <= 0:
            self.add_error("amount_fen", _("Enter an amount above zero."))
        return data


@admin.register(EnterpriseTopUp)
class EnterpriseTopUpAdmin(admin.ModelAdmin):
    """Operators credit a bank transfer received from an enterprise to its prepaid account."""

    form = TopUpForm
    list_display = ["created_at", "enterprise", "amount", "reference", "note", "created_by"]
    search_fields = ["reference", "enterprise__phone"]
    list_select_related = ["enterprise"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in EnterpriseTopUp._meta.fields] if obj else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "enterprise":
            kwargs["queryset"] = _distributors()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("amount"))
    def amount(self, obj: EnterpriseTopUp) -> str:
        return format_fen(obj.amount_fen)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: EnterpriseTopUp, form: Any, change: bool
    ) -> None:
        saved = billing.enterprise_topup(
            enterprise_id=obj.enterprise_id, amount_fen=obj.amount_fen, reference=obj.reference,
            note=obj.note, actor_id=request.user.pk,
        )  # fmt: skip
        obj.pk = saved.pk
