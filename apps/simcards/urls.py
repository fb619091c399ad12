"""Number-pool pages."""

from django.urls import path

from apps.simcards import views

app_name = "simcards"

urlpatterns = [path("sim/numbers/", views.search, name="search")]
