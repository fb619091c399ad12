"""Payment URLs: notifications from providers and the buyer's way to the provider."""

from django.urls import path

from apps.payments import views

app_name = "payments"

urlpatterns = [
    path("notify/<str:method>/", views.notify, name="notify"),
    path("<str:public_id>/go/", views.go, name="go"),
    path("<str:public_id>/state/", views.state, name="state"),
    path("<str:public_id>/carrier-confirm/", views.carrier_confirm, name="carrier-confirm"),
]
