"""Catalog API routes under /api/v1/."""

from django.urls import path

from apps.catalog.api import views

app_name = "catalog-api"

urlpatterns = [
    path("categories/", views.CategoryListApi.as_view(), name="categories"),
    path("products/", views.ProductSearchApi.as_view(), name="products"),
    path("products/<int:product_id>/", views.ProductDetailApi.as_view(), name="product"),
]
