"""Catalog API routes under /api/v1/."""

from django.urls import path

from apps.catalog.api import views
from apps.catalog.cache import cached_for_anonymous

app_name = "catalog-api"

urlpatterns = [
    path("categories/", views.CategoryListApi.as_view(), name="categories"),
    # Anonymous-safe and the same for every caller: answered by the page cache in front of
    # Django like the mall's pages (apps/catalog/edge.py).
    path("products/", cached_for_anonymous(views.ProductSearchApi.as_view()), name="products"),
    path("products/<int:product_id>/", views.ProductDetailApi.as_view(), name="product"),
]
