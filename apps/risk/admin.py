"""The risk workbench: dashboard, decisions, lists (CSV import), caps, rules, review queue, cases."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.risk import selectors, services
from apps.risk.cases import REFUND_APPROVAL_PERMISSION  # the service checks it too
from apps.risk.errors import RefundPermissionRequired
from apps.risk.forms import (
    BacktestForm,
    CaseForm,
    ListImportForm,
    RuleMoveForm,
    RuleVersionForm,
)
from apps.risk.holds import HoldStateRefused
from apps.risk.models import Cap, Case, CpWarning, Hold, Label, ListEntry, Rule

HOLD_ANSWER_PERMISSION = "risk.change_hold"


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    list_display = [
        "action",
        "dimension",
        "value",
        "reason",
        "source",
        "expires_at",
        "added_by",
        "created_at",
    ]
    list_filter = ["action", "dimension", "source"]
    search_fields = ["value", "reason"]
    fields = ["action", "dimension", "value", "reason", "expires_at"]
    change_list_template = "admin/risk/listentry/change_list.html"

    def save_model(self, request: HttpRequest, obj: ListEntry, form: Any, change: bool) -> None:
        saved = services.list_entry_add(
            action=obj.action, dimension=obj.dimension, value=obj.value, reason=obj.reason,
            expires_at=obj.expires_at, actor_id=request.user.pk,
        )  # fmt: skip
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: ListEntry) -> None:
        services.list_entry_remove(entry_id=obj.pk, actor_id=request.user.pk, why="workbench")

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="risk_listentry_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ListImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                count = services.lists_import_csv(text=text, actor_id=request.user.pk)
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, _("%(count)d list entries imported.") % {"count": count})
                return HttpResponseRedirect(reverse("admin:risk_listentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import list entries"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/risk/import.html", context)


@admin.register(Cap)
class CapAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "kinds",
        "dimension",
        "window",
        "metric",
        "limit",
        "outcome",
        "active",
        "version",
    ]
    list_filter = ["active", "window", "dimension"]
    readonly_fields = ["version"]

    def save_model(self, request: HttpRequest, obj: Cap, form: Any, change: bool) -> None:
        services.cap_saved(cap=obj, actor_id=request.user.pk)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are versions: the add page makes a draft (parsed first), a version page moves it
    (with why) and shows its shadow results and a backtest. Nothing is edited in place."""

    list_display = [
        "code",
        "version",
        "state",
        "outcome",
        "reason_code",
        "kinds",
        "expression",
        "updated_at",
    ]
    list_filter = ["state", "outcome"]
    search_fields = ["code", "expression", "reason_code"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("new/", wrap(self.version_view), name="risk_rule_new"),
            path("<int:rule_id>/manage/", wrap(self.manage_view), name="risk_rule_manage"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:risk_rule_new"))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:risk_rule_manage", args=[object_id]))

    def version_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("risk.add_rule"):
            raise PermissionDenied
        initial: dict[str, Any] = {}
        base = Rule.objects.filter(pk=request.GET.get("from") or 0).first()
        if base is not None:
            initial = {"code": base.code, "description": base.description, "kinds": base.kinds,
                       "expression": base.expression, "outcome": base.outcome, "reason_code": base.reason_code}  # fmt: skip
        form = RuleVersionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                rule = services.rule_create(**form.cleaned_data, actor_id=request.user.pk)
            except DomainError as exc:
                form.add_error("expression", exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:risk_rule_manage", args=[rule.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("New rule version"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/risk/rule_new.html", context)

    def manage_view(self, request: HttpRequest, rule_id: int) -> HttpResponse:
        rule = Rule.objects.filter(pk=rule_id).first()
        if rule is None or not self.has_view_permission(request):
            raise PermissionDenied
        move = RuleMoveForm(request.POST if "move" in request.POST else None)
        backtest_form = BacktestForm(
            request.POST if "backtest" in request.POST else None,
            initial=BacktestForm.initial_range(),
        )
        result = None
        if move.is_bound and move.is_valid():
            if not request.user.has_perm("risk.add_rule"):
                raise PermissionDenied
            try:
                services.rule_transition(
                    rule_id=rule.pk, actor_id=request.user.pk, **move.cleaned_data
                )
            except DomainError as exc:
                move.add_error(None, exc.message)
            else:
                messages.success(request, _("Rule moved."))
                return HttpResponseRedirect(request.path)
        if backtest_form.is_bound and backtest_form.is_valid():
            try:
                result = services.backtest(
                    expression=rule.expression, kinds=rule.kinds, **backtest_form.cleaned_data
                )
            except DomainError as exc:
                backtest_form.add_error(None, exc.message)
        versions = Rule.objects.filter(code=rule.code).order_by("-version")
        context = {
            **self.admin_site.each_context(request), "title": str(rule), "rule": rule, "move": move,
            "backtest_form": backtest_form, "result": result, "opts": self.model._meta,
            "shadow": selectors.rule_shadow_result(label=str(rule)),
            "versions": [(v, selectors.rule_shadow_result(label=str(v)) if v.state == "shadow" else None) for v in versions],
        }  # fmt: skip
        return TemplateResponse(request, "admin/risk/rule_manage.html", context)


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "owner",
        "reference",
        "kind",
        "amount_fen",
        "reasons",
        "status",
        "decided_by",
        "decided_at",
        "note",
    ]
    list_filter = ["status", "kind", "owner"]
    search_fields = ["reference"]
    actions = ["release", "refuse"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.dashboard_view)
        return [path("dashboard/", view, name="risk_dashboard"), *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Decisions per kind and outcome by day, top reasons, open cases, the queue, and the
        latest decisions (the decision table has a composite key: no admin list of its own)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Risk dashboard"),
            "board": selectors.dashboard(days=7),
            "latest": selectors.decisions_latest(limit=50),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/risk/dashboard.html", context)

    def has_answer_permission(self, request: HttpRequest) -> bool:
        """Releasing lets a content charge, SMS batch, checkout or payment through: it needs the
        change permission on holds (the risk role has it), not the view permission. The change
        form stays closed (``has_change_permission``): a hold is only answered."""
        return bool(request.user.has_perm(HOLD_ANSWER_PERMISSION))

    def _answer(self, request: HttpRequest, queryset: QuerySet[Hold], *, release: bool) -> None:
        if not self.has_answer_permission(request):  # not only hidden: refused when posted
            raise PermissionDenied
        done = 0
        for hold in queryset.filter(status=Hold.Status.HELD):
            try:
                services.hold_answer(
                    hold_id=hold.pk, release=release, actor_id=request.user.pk, note="workbench"
                )
            except HoldStateRefused:  # another operator answered it meanwhile
                messages.warning(
                    request,
                    _("%(reference)s: already answered by someone else.")
                    % {"reference": hold.reference},
                )
                continue
            done += 1
        self.message_user(request, _("%(count)d held items answered.") % {"count": done})

    @admin.action(description=_("Release the selected items"), permissions=["answer"])
    def release(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        self._answer(request, queryset, release=True)

    @admin.action(description=_("Refuse the selected items"), permissions=["answer"])
    def refuse(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        self._answer(request, queryset, release=False)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "anomaly",
        "subject",
        "day",
        "title",
        "status",
        "assignee",
        "outcome",
    ]
    list_filter = ["status", "anomaly", "outcome"]
    search_fields = ["subject", "title", "references"]
    fields = [
        "anomaly",
        "subject",
        "day",
        "title",
        "evidence",
        "references",
        "status",
        "assignee",
        "notes",
        "outcome",
        "closed_at",
    ]
    readonly_fields = [
        "anomaly",
        "subject",
        "day",
        "title",
        "evidence",
        "references",
        "status",
        "closed_at",
    ]

    form = CaseForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form: Any = super().get_form(request, obj, change, **kwargs)  # a new class each call
        form.may_issue_refunds = request.user.has_perm(REFUND_APPROVAL_PERMISSION)
        return form

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        try:
            services.case_update(
                case_id=obj.pk, assignee_id=obj.assignee_id, notes=obj.notes, outcome=obj.outcome,
                actor_id=request.user.pk,
            )  # fmt: skip
        except RefundPermissionRequired as exc:  # the form refuses first; any other path
            raise PermissionDenied from exc


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "source",
        "reference",
        "cp_id",
        "product",
        "msisdn",
        "user_id",
        "device_id",
        "origin",
        "points_applied_at",  # empty: its score points wait for Redis (beat risk-label-points)
    ]
    list_filter = ["source"]
    search_fields = ["reference", "msisdn", "device_id", "origin"]


@admin.register(CpWarning)
class CpWarningAdmin(ReadOnlyAdmin):
    """Warnings are written by closing a case as "CP warned"; here they are only read."""

    list_display = ["created_at", "cp_id", "case", "reason", "suspended", "created_by"]
    list_filter = ["suspended"]
    search_fields = ["cp_id", "reason"]
