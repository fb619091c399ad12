"""Workbench for finance: rules, batches with their progress, statements through their
lifecycle, and report exports with their download links. Every write goes through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.accounts.second_factor import recent_second_factor_required
from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.settlement import exports, selectors, services, tasks
from apps.settlement.counterparties import KIND_CHOICES
from apps.settlement.models import (
    ReconBatch,
    ReconDifference,
    ReportExport,
    SettlementBatch,
    SettlementRule,
    Statement,
    StatementLine,
)
from apps.settlement.reconciliation import services as recon
from apps.settlement.reports.sources import REPORTS, Params
from apps.settlement.views import FORMATS, statement_download


def _actor(request: HttpRequest) -> int:
    """The signed-in staff member's id (the admin has checked there is one)."""
    return int(request.user.pk)  # type: ignore[arg-type]


class RuleForm(forms.ModelForm):
    tiers_text = forms.CharField(
        label=_("Tiers"),
        required=False,
        help_text=_("One tier a line: monthly volume from (fen) and rate, e.g. 0 0.5"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = SettlementRule
        fields = [
            "kind",
            "party_id",
            "method",
            "rate",
            "unit_fee_fen",
            "deduct_refunds",
            "deduct_chargebacks",
            "complaint_fee_fen",
            "minimum_payout_fen",
            "effective_from",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            tiers = tuple(
                (int(parts[0]), parts[1])
                for line in (data.get("tiers_text") or "").splitlines()
                if (parts := line.split())
            )
            rule = services.RuleInput(
                kind=data.get("kind", ""),
                party_id=data.get("party_id"),
                method=data.get("method", ""),
                effective_from=data.get("effective_from") or dt.date.min,
                rate=str(data.get("rate") or 0),
                tiers=tiers,
                unit_fee_fen=data.get("unit_fee_fen") or 0,
                deduct_refunds=bool(data.get("deduct_refunds")),
                deduct_chargebacks=bool(data.get("deduct_chargebacks")),
                complaint_fee_fen=data.get("complaint_fee_fen") or 0,
                minimum_payout_fen=data.get("minimum_payout_fen") or 0,
            )
            services.rule_check(rule)
        except (ValueError, IndexError) as exc:
            raise forms.ValidationError(_("Each tier is a volume in fen and a rate.")) from exc
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        data["rule"] = rule
        return data


@admin.register(SettlementRule)
class SettlementRuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = [
        "kind",
        "party_id",
        "method",
        "rate",
        "tiers",
        "unit_fee_fen",
        "minimum_payout_fen",
        "effective_from",
        "created_by",
    ]
    list_filter = ["kind", "method"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A version never changes: a new one with a later date replaces it from that date.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: SettlementRule, form: Any, change: bool
    ) -> None:
        obj.pk = services.rule_create(rule=form.cleaned_data["rule"], actor_id=_actor(request))


class BatchForm(forms.ModelForm):
    class Meta:
        model = SettlementBatch
        fields = ["kind", "period_start", "period_end"]


@admin.register(SettlementBatch)
class SettlementBatchAdmin(admin.ModelAdmin):
    form = BatchForm
    list_display = [
        "kind",
        "period_start",
        "period_end",
        "status",
        "progress",
        "tie_out_failures",
        "runs",
        "run_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]
    actions = ["run_again"]

    @admin.display(description=_("Progress"))
    def progress(self, obj: SettlementBatch) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {}/{}',
            obj.progress_percent,
            obj.parties_done,
            obj.parties_total,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: SettlementBatch, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        obj.pk = tasks.settlement_batch_task(
            data["kind"],
            data["period_start"].isoformat(),
            data["period_end"].isoformat(),
            _actor(request),
        )

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)

    @admin.action(description=_("Run the selected batches again"), permissions=["add"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[SettlementBatch]) -> None:
        for batch in queryset:
            tasks.settlement_batch_task.delay(
                batch.kind,
                batch.period_start.isoformat(),
                batch.period_end.isoformat(),
                _actor(request),
            )
        messages.success(request, _("The batches are running again."))


class LineInline(admin.TabularInline):
    model = StatementLine
    fields = ["at", "journal_kind", "reference", "category", "amount_fen"]
    readonly_fields = ["at", "journal_kind", "reference", "category", "amount_fen"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatementLine]:
        return super().get_queryset(request)[:200]


class DisputeForm(forms.Form):
    note = forms.CharField(label=_("Dispute notes"), widget=forms.Textarea(attrs={"rows": 4}))


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "party_id",
        "period_start",
        "period_end",
        "status",
        "ties_out",
        "volume",
        "party_amount",
        "payout",
        "carry_out",
        "downloads",
    ]
    list_filter = ["status", "kind", "tie_out_ok", "period_start"]
    search_fields = ["account_code"]
    actions = ["confirm", "pay", "dispute", "reopen"]
    readonly_fields = [f.name for f in Statement._meta.fields]
    inlines = [LineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Ties out"), boolean=True)
    def ties_out(self, obj: Statement) -> bool:
        return obj.tie_out_ok

    @admin.display(description=_("Sales"))
    def volume(self, obj: Statement) -> str:
        return format_fen(obj.volume_fen)

    @admin.display(description=_("Counterparty amount"))
    def party_amount(self, obj: Statement) -> str:
        return format_fen(obj.party_fen)

    @admin.display(description=_("Payout"))
    def payout(self, obj: Statement) -> str:
        return format_fen(obj.payout_fen)

    @admin.display(description=_("Carried over"))
    def carry_out(self, obj: Statement) -> str:
        return format_fen(obj.carry_out_fen)

    @admin.display(description=_("Download"))
    def downloads(self, obj: Statement) -> str:
        links = [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:settlement_statement_file", args=[obj.pk, fmt]),
                fmt.upper(),
            )
            for fmt in FORMATS
        ]
        return format_html(" ".join(["{}"] * len(links)), *links)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:statement_id>/file/<str:fmt>/",
                self.admin_site.admin_view(self.statement_file),
                name="settlement_statement_file",
            ),
            *super().get_urls(),
        ]

    def statement_file(
        self, request: HttpRequest, statement_id: int, fmt: str
    ) -> HttpResponse | StreamingHttpResponse:
        if fmt not in FORMATS or not self.has_view_permission(request):
            return HttpResponse(status=404)
        statement = selectors.statement_get(statement_id=statement_id)
        return statement_download(statement, fmt, actor_id=_actor(request))

    def _each(self, request: HttpRequest, queryset: QuerySet[Statement], move: Any) -> None:
        done = 0
        for statement_id in queryset.values_list("pk", flat=True):
            try:
                move(statement_id)
                done += 1
            except DomainError as exc:
                messages.error(request, f"#{statement_id}: {exc.message}")
        if done:
            messages.success(request, _("%(n)d statements updated.") % {"n": done})

    @admin.action(description=_("Confirm the selected statements"), permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[Statement]) -> None:
        self._each(
            request,
            queryset,
            lambda pk: services.statement_confirm(statement_id=pk, actor_id=_actor(request)),
        )

    @admin.action(description=_("Mark the selected statements paid"), permissions=["change"])
    @recent_second_factor_required  # a payout, like a refund approval
    def pay(self, request: HttpRequest, queryset: QuerySet[Statement]) -> None:
        self._each(
            request,
            queryset,
            lambda pk: services.statement_pay(statement_id=pk, actor_id=_actor(request)),
        )

    @admin.action(description=_("Reopen the selected disputed statements"), permissions=["change"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Statement]) -> None:
        self._each(
            request,
            queryset,
            lambda pk: services.statement_reopen(statement_id=pk, actor_id=_actor(request)),
        )

    @admin.action(description=_("Dispute the selected statements"), permissions=["change"])
    def dispute(self, request: HttpRequest, queryset: QuerySet[Statement]) -> HttpResponse | None:
        form = DisputeForm(request.POST if "note" in request.POST else None)
        if form.is_valid():
            note = form.cleaned_data["note"]
            self._each(
                request,
                queryset,
                lambda pk: services.statement_dispute(
                    statement_id=pk, actor_id=_actor(request), note=note
                ),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "statements": queryset,
            "opts": self.model._meta,
            "action": "dispute",
        }
        return render(request, "settlement/admin_dispute.html", context)


class ExportForm(forms.ModelForm):
    start = forms.DateField(label=_("From"))
    end = forms.DateField(label=_("To (exclusive)"))
    kind = forms.ChoiceField(
        label=_("Counterparty kind"), choices=[("", "—"), *KIND_CHOICES], required=False
    )
    account_code = forms.CharField(label=_("Ledger account"), required=False)
    statement_id = forms.IntegerField(label=_("Statement"), required=False)
    report = forms.ChoiceField(
        label=_("Report"), choices=[(code, r.title) for code, r in REPORTS.items()]
    )

    class Meta:
        model = ReportExport
        fields = ["report", "fmt"]


@admin.register(ReportExport)
class ReportExportAdmin(admin.ModelAdmin):
    form = ExportForm
    list_display = [
        "id",
        "report",
        "fmt",
        "status",
        "rows_written",
        "requested_by",
        "created_at",
        "finished_at",
        "download",
    ]
    list_filter = ["report", "status"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("Download"))
    def download(self, obj: ReportExport) -> str:
        if obj.status != ReportExport.Status.DONE:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:settlement_reportexport_file", args=[obj.pk]),
            obj.file_name,
        )

    def save_model(self, request: HttpRequest, obj: ReportExport, form: Any, change: bool) -> None:
        data = form.cleaned_data
        params = Params(
            start=data["start"],
            end=data["end"],
            kind=data.get("kind") or "",
            account_code=data.get("account_code") or "",
            statement_id=data.get("statement_id"),
        )
        obj.pk = exports.export_request(
            report=data["report"], params=params, fmt=data["fmt"], actor_id=_actor(request)
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:export_id>/file/",
                self.admin_site.admin_view(self.export_file),
                name="settlement_reportexport_file",
            ),
            *super().get_urls(),
        ]

    def export_file(self, request: HttpRequest, export_id: int) -> HttpResponse | FileResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=404)
        try:
            file_path = exports.export_download(export_id=export_id, actor_id=_actor(request))
        except DomainError:
            return HttpResponse(status=404)
        return FileResponse(file_path.open("rb"), as_attachment=True, filename=file_path.name)


@admin.register(ReconBatch)
class ReconBatchAdmin(admin.ModelAdmin):
    list_display = ["provider", "bill_date", "status", "rows", "results", "bill_net", "ledger_net",
                    "tie_out_ok", "error", "finished_at"]  # fmt: skip
    list_filter = ["provider", "status", "tie_out_ok"]
    readonly_fields = [f.name for f in ReconBatch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Results"))
    def results(self, obj: ReconBatch) -> str:
        return ", ".join(f"{k}: {v}" for k, v in obj.counts.items() if v)

    @admin.display(description=_("Bill net"))
    def bill_net(self, obj: ReconBatch) -> str:
        return format_fen(obj.bill_net_fen)

    @admin.display(description=_("Clearing account movement"))
    def ledger_net(self, obj: ReconBatch) -> str:
        return format_fen(obj.ledger_net_fen)


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))
    adjust = forms.BooleanField(
        label=_("Book the difference as an adjustment journal"), required=False
    )


@admin.register(ReconDifference)
class ReconDifferenceAdmin(admin.ModelAdmin):
    """The work queue: each difference with the provider's row beside the platform's."""

    list_display = ["id", "batch", "kind", "key", "difference", "status", "created_at"]
    list_filter = ["status", "kind", "batch__provider"]
    search_fields = ["key"]
    actions = ["investigate", "resolve"]
    readonly_fields = ["batch", "kind", "key", "evidence", "difference", "status", "resolution",
                       "journal_id", "resolved_by", "created_at"]  # fmt: skip
    exclude = ["bill_row", "platform_row", "difference_fen"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Difference"))
    def difference(self, obj: ReconDifference) -> str:
        return format_fen(obj.difference_fen)

    @admin.display(description=_("Evidence"))
    def evidence(self, obj: ReconDifference) -> str:
        bill, ours = obj.bill_row or {}, obj.platform_row or {}
        keys = sorted(set(bill) | set(ours))
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((key, bill.get(key, "—"), ours.get(key, "—")) for key in keys),
        )  # fmt: skip
        return format_html(
            "<table><tr><th></th><th>{}</th><th>{}</th></tr>{}</table>",
            _("At the provider"), _("On the platform"), rows,
        )  # fmt: skip

    @admin.action(description=_("Investigate the selected differences"), permissions=["change"])
    def investigate(self, request: HttpRequest, queryset: QuerySet[ReconDifference]) -> None:
        for difference_id in queryset.values_list("pk", flat=True):
            try:
                recon.difference_investigate(difference_id=difference_id, actor_id=_actor(request))
            except DomainError as exc:
                messages.error(request, f"#{difference_id}: {exc.message}")

    @admin.action(description=_("Resolve the selected differences"), permissions=["change"])
    def resolve(
        self, request: HttpRequest, queryset: QuerySet[ReconDifference]
    ) -> HttpResponse | None:
        form = ResolveForm(request.POST if "note" in request.POST else None)
        if form.is_valid():
            for difference_id in queryset.values_list("pk", flat=True):
                try:
                    recon.difference_resolve(
                        difference_id=difference_id, actor_id=_actor(request),
                        note=form.cleaned_data["note"], adjust=form.cleaned_data["adjust"],
                    )  # fmt: skip
                except DomainError as exc:
                    messages.error(request, f"#{difference_id}: {exc.message}")
            return None
        context = {**self.admin_site.each_context(request), "form": form, "statements": queryset,
                   "opts": self.model._meta, "action": "resolve"}  # fmt: skip
        return render(request, "settlement/admin_dispute.html", context)
