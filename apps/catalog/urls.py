"""Mall page URLs."""

from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("p/<int:product_id>/", views.product, name="product"),
    path("p/check-number/", views.check_number, name="check-number"),
    path("pages/<slug:slug>/", views.portal_page, name="page"),
    path("csrf/", views.csrf, name="csrf"),
]
