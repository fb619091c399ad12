"""Workbench: card batches (generate, counts by state, print file once, numbers export, freeze,
void) and single cards (freeze, unfreeze, unlock, void); every change is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import to_fen
from apps.fulfilment import cards
from apps.fulfilment.cards.batches import card_count_annotations
from apps.fulfilment.models import Card, CardBatch


class GenerateForm(forms.Form):
    sku_id = forms.IntegerField(
        label=_("SKU id (cards sold online)"), required=False, min_value=1,
        help_text=_("Leave empty for printed cards. An online batch takes its kind and value from the SKU."),
    )  # fmt: skip
    kind = forms.ChoiceField(label=_("Card kind"), choices=CardBatch.Kind.choices, required=False)
    face_value_yuan = forms.IntegerField(label=_("Face value (yuan)"), required=False, min_value=1)
    volume_mb = forms.IntegerField(label=_("Data (MB)"), required=False, min_value=1)
    validity_days = forms.IntegerField(
        label=_("Data valid for (days)"), required=False, min_value=1
    )
    points = forms.IntegerField(label=_("Points"), required=False, min_value=1)
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=cards.batches.MAX_BATCH
    )
    days = forms.IntegerField(
        label=_("Cards valid for (days)"), min_value=1, max_value=3650, initial=365
    )

    def value(self) -> cards.CardValue:
        data = self.cleaned_data
        if data.get("sku_id"):
            return cards.card_value_for_sku(sku_id=data["sku_id"])
        return cards.CardValue(
            kind=data.get("kind") or "", face_value_fen=to_fen(data.get("face_value_yuan") or 0),
            volume_mb=data.get("volume_mb") or 0, validity_days=data.get("validity_days") or 0,
            points=data.get("points") or 0,
        )  # fmt: skip


def _count(name: str, label: Any) -> Any:
    """A list column showing one of ``card_count_annotations``."""

    def show(admin_: Any, obj: CardBatch) -> int:
        return int(getattr(obj, name))

    return admin.display(description=label, ordering=name)(show)


@admin.register(CardBatch)
class CardBatchAdmin(admin.ModelAdmin):
    list_display = ["batch_no", "kind", "channel", "value", "quantity", "status", "n_unsold", "n_sold",
                    "n_redeemed", "n_frozen", "n_voided", "n_locked", "print_file_state", "expires_at"]  # fmt: skip
    list_filter = ["status", "kind", "channel"]
    search_fields = ["batch_no"]
    exclude = ["print_file"]
    readonly_fields = [f.name for f in CardBatch._meta.fields if f.name != "print_file"] + [
        "downloads"
    ]
    actions = ["freeze", "unfreeze", "void"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CardBatch]:
        return super().get_queryset(request).annotate(**card_count_annotations())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Value"))
    def value(self, obj: CardBatch) -> str:
        return cards.CardValue.of(obj).describe()

    n_unsold = _count("n_unsold", _("Unsold"))
    n_sold = _count("n_sold", _("Sold"))
    n_redeemed = _count("n_redeemed", _("Redeemed"))
    n_frozen = _count("n_frozen", _("Frozen"))
    n_voided = _count("n_voided", _("Voided"))
    n_locked = _count("n_locked", _("Locked"))

    @admin.display(description=_("Print file"))
    def print_file_state(self, obj: CardBatch) -> str:
        if obj.channel == CardBatch.Channel.ONLINE:
            return "—"
        return gettext("waiting for download") if obj.print_file else gettext("taken")

    @admin.display(description=_("Downloads"))
    def downloads(self, obj: CardBatch) -> str:
        numbers = reverse("admin:fulfilment_cardbatch_numbers", args=[obj.pk])
        links = format_html(
            '<a class="button" href="{}">{}</a>', numbers, gettext("Card numbers and states (CSV)")
        )
        if obj.print_file:
            url = reverse("admin:fulfilment_cardbatch_print_file", args=[obj.pk])
            links += format_html(
                ' <a class="button" href="{}">{}</a>',
                url,
                gettext("Print file (numbers and PINs), once only"),
            )
        return links

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="fulfilment_cardbatch_generate"),
            path("<int:pk>/print-file/", view(self.print_file_view), name="fulfilment_cardbatch_print_file"),
            path("<int:pk>/numbers.csv", view(self.numbers_view), name="fulfilment_cardbatch_numbers"),
            *super().get_urls(),
        ]  # fmt: skip

    def add_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:fulfilment_cardbatch_generate"))

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = GenerateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = cards.card_batch_create(
                    value=form.value(), quantity=form.cleaned_data["quantity"], sku_id=form.cleaned_data.get("sku_id"),
                    expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]), actor_id=request.user.pk,
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(None, f"{exc.code}: {exc.message}")
            else:
                messages.success(
                    request, gettext("Batch %(no)s generated.") % {"no": batch.batch_no}
                )
                return HttpResponseRedirect(
                    reverse("admin:fulfilment_cardbatch_change", args=[batch.pk])
                )
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": gettext("Generate a card batch")}  # fmt: skip
        return TemplateResponse(request, "fulfilment/admin_generate.html", context)

    def print_file_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET asks to confirm; POST hands the file over and it is gone from the platform."""
        if not request.user.has_perm("fulfilment.download_print_file"):
            raise PermissionDenied
        batch = get_object_or_404(CardBatch, pk=pk)
        if request.method != "POST":
            context = {**self.admin_site.each_context(request), "batch": batch, "opts": self.model._meta,
                       "title": gettext("Download the print file of %(no)s") % {"no": batch.batch_no}}  # fmt: skip
            return TemplateResponse(request, "fulfilment/admin_print_file.html", context)
        try:
            name, content = cards.card_batch_print_file_take(batch_id=pk, actor_id=request.user.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:fulfilment_cardbatch_change", args=[pk]))
        return _attachment(name, content)

    def numbers_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        get_object_or_404(CardBatch, pk=pk)
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _attachment(*cards.card_batch_numbers_csv(batch_id=pk))

    def _set(self, request: HttpRequest, queryset: QuerySet[CardBatch], status: str) -> None:
        for batch in queryset:
            try:
                cards.card_batch_set_status(
                    batch_id=batch.pk, status=status, actor_id=request.user.pk
                )
            except DomainError as exc:
                messages.warning(request, f"{batch.batch_no}: {exc.message}")

    @admin.action(description=_("Freeze selected batches"), permissions=["change"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.FROZEN)

    @admin.action(description=_("Unfreeze selected batches"), permissions=["change"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.ACTIVE)

    @admin.action(description=_("Void selected batches"), permissions=["change"])
    def void(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.VOIDED)


def _attachment(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "batch",
        "status",
        "wrong_pins",
        "sold_order_number",
        "redeemed_msisdn",
        "redeemed_at",
    ]
    list_filter = ["status", "batch__kind", "batch__channel"]
    search_fields = ["number", "redeemed_msisdn", "sold_order_number", "batch__batch_no"]
    exclude = ["pin_hash", "pin_encrypted"]
    readonly_fields = ["batch", "number", "status", "wrong_pins", "redeemed_msisdn", "redeemed_by", "redeemed_at",
                       "sold_line_id", "sold_user_id", "sold_order_number", "sold_at"]  # fmt: skip
    actions = ["freeze", "unfreeze", "unlock", "void"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _act(self, request: HttpRequest, queryset: QuerySet[Card], action: str) -> None:
        done = 0
        for card_id, number in queryset.values_list("pk", "number"):
            try:
                cards.card_set_status(card_id=card_id, action=action, actor_id=request.user.pk)
                done += 1
            except DomainError as exc:
                messages.warning(request, f"{number}: {exc.message}")
        if done:
            messages.success(request, gettext("%(n)s cards changed.") % {"n": done})

    @admin.action(description=_("Freeze selected cards"), permissions=["change"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._act(request, queryset, "freeze")

    @admin.action(description=_("Unfreeze selected cards"), permissions=["change"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._act(request, queryset, "unfreeze")

    @admin.action(description=_("Unlock selected cards (after wrong PINs)"), permissions=["change"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._act(request, queryset, "unlock")

    @admin.action(description=_("Void selected cards"), permissions=["change"])
    def void(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._act(request, queryset, "void")
