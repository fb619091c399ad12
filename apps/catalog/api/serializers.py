"""Catalog API shapes."""

from __future__ import annotations

from rest_framework import serializers


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.CharField()
    children = serializers.ListField(
        child=serializers.DictField(), help_text="Subcategories, same shape"
    )


class ProductCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    subtitle = serializers.CharField()
    kind = serializers.CharField()
    min_price_fen = serializers.IntegerField()
    thumbnail_url = serializers.CharField()
    in_stock = serializers.BooleanField()
    highlighted_name = serializers.CharField(
        help_text="HTML-escaped name with <mark> around matched words"
    )


class FacetSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the metaclass pops declared fields
    label_en = serializers.CharField()
    count = serializers.IntegerField()


class SearchResultSerializer(serializers.Serializer):
    items = ProductCardSerializer(many=True)
    total = serializers.IntegerField(help_text="At most 5,000; see total_capped")
    total_capped = serializers.BooleanField(help_text="True when there are more matches than total")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    fuzzy = serializers.BooleanField(
        help_text="True when no exact match: results by name similarity"
    )
    facets = serializers.DictField(child=FacetSerializer(many=True))
    facets_sampled = serializers.BooleanField(
        help_text="True when the facets were counted over the first 5,000 matches only"
    )


class SkuSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField(help_text="English name; empty: use name")
    price_fen = serializers.IntegerField()
    list_price_fen = serializers.IntegerField()
    attributes = serializers.DictField()
    stock_available = serializers.IntegerField(allow_null=True)
    low_stock = serializers.BooleanField()


class ProductDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    subtitle = serializers.CharField()
    subtitle_en = serializers.CharField(help_text="English subtitle; empty: use subtitle")
    description = serializers.CharField(help_text="Sanitised HTML")
    kind = serializers.CharField()
    type_code = serializers.CharField()
    needs_recipient_number = serializers.BooleanField()
    attributes = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    attributes_en = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The attributes in English (Chinese where the schema has no English)",
    )
    image_url = serializers.CharField()
    skus = SkuSerializer(many=True)
    per_user_limit = serializers.IntegerField(allow_null=True)
    min_price_fen = serializers.IntegerField()
