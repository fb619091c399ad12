"""django-filter sets for the catalog's plain list endpoints."""

from __future__ import annotations

import django_filters

from apps.catalog.models import Category, Kind


class CategoryFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    parent = django_filters.CharFilter(field_name="parent__slug", help_text="Parent category slug")

    class Meta:
        model = Category
        fields = ["kind", "parent"]
