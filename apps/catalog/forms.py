"""Parsing the mall's query strings; a bad value is reported, never a 500."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Kind
from apps.catalog.selectors import SORTS, SearchFilters
from apps.core.money import to_fen


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=64, required=False)
    category = forms.SlugField(max_length=64, required=False)
    kind = forms.ChoiceField(choices=[("", ""), *Kind.choices], required=False)
    price_min = forms.DecimalField(
        label=_("Min price"), min_value=Decimal(0), max_digits=9, decimal_places=2, required=False
    )
    price_max = forms.DecimalField(
        label=_("Max price"), min_value=Decimal(0), max_digits=9, decimal_places=2, required=False
    )
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)
    owner = forms.RegexField(regex=r"^(platform|\d{1,12})$", required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORTS], required=False)
    page = forms.IntegerField(min_value=1, max_value=500, required=False)

    def filters(self, *, category: str = "") -> SearchFilters:
        """The valid fields as filters; invalid ones are dropped (and shown as form errors)."""
        data = self.cleaned_data if self.is_valid() else {
            k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors
        }  # fmt: skip
        return SearchFilters(
            query=(data.get("q") or "").strip(),
            category=category or data.get("category") or "",
            kind=data.get("kind") or "",
            price_min_fen=to_fen(data["price_min"]) if data.get("price_min") is not None else None,
            price_max_fen=to_fen(data["price_max"]) if data.get("price_max") is not None else None,
            in_stock=bool(data.get("in_stock")),
            owner=data.get("owner") or "",
            sort=data.get("sort") or ("relevance" if data.get("q") else "sales"),
            page=data.get("page") or 1,
        )
