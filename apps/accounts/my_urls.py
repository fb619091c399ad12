"""The buyer's address book under /my/addresses/."""

from django.urls import path

from apps.accounts import address_views as views

app_name = "my-addresses"

urlpatterns = [
    path("", views.address_list, name="list"),
    path("divisions/", views.division_options, name="divisions"),
    path("<int:address_id>/", views.address_edit, name="edit"),
    path("<int:address_id>/default/", views.address_default, name="default"),
    path("<int:address_id>/delete/", views.address_delete, name="delete"),
]
