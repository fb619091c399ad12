"""Public analytics endpoints: the product-view beacon (the chart pages live in the admin)."""

from django.urls import path

from apps.analytics.views import view_beacon

app_name = "analytics"
urlpatterns = [path("a/view/<int:product_id>", view_beacon, name="view-beacon")]
