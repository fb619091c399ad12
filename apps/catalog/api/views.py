"""Catalog API: categories, product search with filters and facets, product detail."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors
from apps.catalog.api import serializers as s
from apps.catalog.api.filters import CategoryFilter
from apps.catalog.forms import SearchForm
from apps.catalog.models import Category
from apps.core.serializers import ErrorSerializer


class CategoryListApi(generics.ListAPIView):
    """Active categories, flat, filterable by kind and parent; `?tree=1` nests them."""

    permission_classes = [permissions.AllowAny]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CategoryFilter
    pagination_class = None
    queryset = Category.objects.filter(is_active=True).order_by("sort", "id")

    class Output(serializers.ModelSerializer):
        parent: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(  # type: ignore[assignment]
            slug_field="slug", read_only=True
        )

        class Meta:
            model = Category
            fields = ["id", "slug", "name", "name_en", "kind", "parent", "sort"]

    serializer_class = Output

    @extend_schema(tags=["catalog"], summary="Categories")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        if request.query_params.get("tree"):
            return Response([asdict(node) for node in selectors.category_tree()])
        return super().get(request, *args, **kwargs)


_SEARCH_PARAMS = [
    OpenApiParameter("q", str, description="Words to find, Chinese or English"),
    OpenApiParameter("category", str, description="Category slug (includes subcategories)"),
    OpenApiParameter("kind", str, enum=["digital", "electronic", "physical"]),
    OpenApiParameter("price_min", str, description="Yuan, e.g. 9.90"),
    OpenApiParameter("price_max", str, description="Yuan"),
    OpenApiParameter("in_stock", bool),
    OpenApiParameter("owner", str, description="`platform` or a content provider's id"),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
    OpenApiParameter("page", int),
]


class ProductSearchApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["catalog"],
        summary="Search and list products with filters and facet counts",
        parameters=_SEARCH_PARAMS,
        responses={200: s.SearchResultSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request) -> HttpResponse:
        form = SearchForm(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        filters = form.filters()
        # Answers are cached whole, per catalog version and normalised query: popular
        # searches repeat, and a repeat then costs two cache reads instead of the database.
        seconds = settings.SEARCH_CACHE_SECONDS
        key = selectors.result_cache_key(filters) if seconds > 0 else ""
        body = cache.get(key) if key else None
        if body is None:
            result = selectors.product_search(filters=filters)
            body = JSONRenderer().render(s.SearchResultSerializer(asdict(result)).data)
            if key:
                cache.set(key, body, seconds)
        return HttpResponse(body, content_type="application/json")


class ProductDetailApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["catalog"],
        summary="A product on sale with its SKUs",
        responses={200: s.ProductDetailSerializer, 404: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request: Request, product_id: int) -> Response:
        detail = selectors.product_detail(product_id=product_id)
        return Response(s.ProductDetailSerializer(asdict(detail)).data)
