"""Workbench: the number pool, with a CSV import for operators."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.simcards.models import SimNumber
from apps.simcards.pool import numbers_import

MAX_UPLOAD_BYTES = 8 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Header row: msisdn, and optionally premium_fen, province, city. "
            "A premium left empty follows the number's pattern."
        ),
    )


@admin.register(SimNumber)
class SimNumberAdmin(admin.ModelAdmin):
    list_display = ["msisdn", "pattern", "premium_fen", "status", "held_until", "province", "city"]
    list_filter = ["status", "pattern"]
    search_fields = ["msisdn"]
    show_full_result_count = False  # counting a pool of millions on every page is slow
    fields = ["msisdn", "pattern", "premium_fen", "province", "city", "status", "held_until",
              "hold_reference", "owner_id_masked", "sold_at", "activated_at", "activation_error"]  # fmt: skip
    readonly_fields = ["msisdn", "pattern", "status", "held_until", "hold_reference",
                       "owner_id_masked", "sold_at", "activated_at", "activation_error"]  # fmt: skip
    change_list_template = "admin/simcards/simnumber/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # numbers come in by import, so that their pattern and premium are set

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a number that was ever sold must stay; withdraw it instead

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="simcards_simnumber_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[tuple[int, str]] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("file", _("The file is larger than 8 MB."))
            else:
                try:
                    text = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    form.add_error("file", _("The file must be UTF-8 text."))
                else:
                    result = numbers_import(text=text)
                    errors = result.errors
                    if not errors:
                        messages.success(
                            request,
                            _("%(created)d numbers added, %(existing)d already in the pool.")
                            % {"created": result.created, "existing": result.existing},
                        )
                        return redirect("admin:simcards_simnumber_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "errors": errors[:200],
            "error_count": len(errors),
            "title": _("Import numbers"),
        }
        return render(request, "admin/simcards/simnumber/import.html", context)
